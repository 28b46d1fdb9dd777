# Credentials stored encrypted (config/fields.py): the columns become text, every
# existing row is encrypted with the first of FIELD_ENCRYPTION_KEYS, then the fields
# become EncryptedTextFields (no change to the database).

import config.fields
import telephony.egress
from django.db import migrations, models

asterisk = config.fields.encrypt_existing_rows("telephony", "AsteriskConnection", "secret")
twilio = config.fields.encrypt_existing_rows(
    "telephony", "TwilioAccount", "auth_token", "api_key_secret"
)


class Migration(migrations.Migration):

    dependencies = [
        ('telephony', '0004_asterisk_field_validators'),
    ]

    operations = [
        migrations.AlterField(
            model_name='asteriskconnection',
            name='secret',
            field=models.TextField(validators=[telephony.egress.no_control_characters]),
        ),
        migrations.AlterField(
            model_name='twilioaccount',
            name='auth_token',
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name='twilioaccount',
            name='api_key_secret',
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(*asterisk),
        migrations.RunPython(*twilio),
        migrations.AlterField(
            model_name='asteriskconnection',
            name='secret',
            field=config.fields.EncryptedTextField(max_length=255, validators=[telephony.egress.no_control_characters]),
        ),
        migrations.AlterField(
            model_name='twilioaccount',
            name='auth_token',
            field=config.fields.EncryptedTextField(max_length=128),
        ),
        migrations.AlterField(
            model_name='twilioaccount',
            name='api_key_secret',
            field=config.fields.EncryptedTextField(blank=True, max_length=128),
        ),
    ]
