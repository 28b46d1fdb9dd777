from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0011_twilio_recordings_delete"),
    ]

    operations = [
        migrations.AddField(
            model_name="twiliooffer",
            name="room",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
