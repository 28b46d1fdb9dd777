# The queue alert notification kind (issue 31).

from django.db import migrations, models

KINDS = [
    ("case.assigned", "Case assigned"),
    ("case.overdue", "Case overdue"),
    ("case.updated", "Case updated"),
    ("follow_up.scheduled", "Follow-up scheduled"),
    ("call.missed", "Missed call"),
    ("queue.alert", "Queue alert"),
    ("system", "System"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_case_legal_hold"),
    ]

    operations = [
        migrations.AlterField(
            model_name=model,
            name="kind",
            field=models.CharField(choices=KINDS, max_length=32),
        )
        for model in ("notification", "notificationpreference", "outboundemail")
    ]
