from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contactcenter", "0023_callback_offers"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="agents_see_monitoring",
            field=models.BooleanField(default=False),
        ),
    ]
