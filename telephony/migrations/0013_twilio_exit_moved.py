from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0012_twilio_offer_room"),
    ]

    operations = [
        migrations.AlterField(
            model_name="twilioqueueexit",
            name="reason",
            field=models.CharField(
                choices=[
                    ("max_wait", "Waited the queue's maximum"),
                    ("empty", "No member could take a call (leave_empty)"),
                    ("moved", "Moved to another queue by a supervisor"),
                ],
                max_length=16,
            ),
        ),
    ]
