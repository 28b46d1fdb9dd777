# The SIP password stored encrypted (config/fields.py): the column becomes text, every
# existing row is encrypted with the first of FIELD_ENCRYPTION_KEYS, then the field
# becomes an EncryptedTextField (no change to the database).

import config.fields
from django.db import migrations, models

agents = config.fields.encrypt_existing_rows("contactcenter", "Agent", "sip_password")


class Migration(migrations.Migration):

    dependencies = [
        ('contactcenter', '0010_invitation'),
    ]

    operations = [
        migrations.AlterField(
            model_name='agent',
            name='sip_password',
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(*agents),
        migrations.AlterField(
            model_name='agent',
            name='sip_password',
            field=config.fields.EncryptedTextField(blank=True, max_length=128),
        ),
    ]
