# The audit trail (AuditEntry), API keys (APIKey) and each organization's audit retention.
# On PostgreSQL a trigger refuses UPDATE and DELETE of audit entries unless the purge
# job set contactcenter.audit_purge for its transaction (contactcenter/services/audit_purge.py).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION contactcenter_auditentry_guard() RETURNS trigger AS $$
BEGIN
    IF current_setting('contactcenter.audit_purge', true) = 'on' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries cannot be changed or deleted' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER contactcenter_auditentry_guard
    BEFORE UPDATE OR DELETE ON contactcenter_auditentry
    FOR EACH ROW EXECUTE FUNCTION contactcenter_auditentry_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS contactcenter_auditentry_guard ON contactcenter_auditentry;
DROP FUNCTION IF EXISTS contactcenter_auditentry_guard();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('contactcenter', '0011_encrypt_sip_password'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='organization',
            name='audit_retention_days',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('actor_kind', models.CharField(choices=[('user', 'User'), ('api_key', 'API key'), ('pbx', 'PBX'), ('job', 'Scheduled job'), ('system', 'System'), ('anonymous', 'Anonymous')], max_length=16)),
                ('actor_user_id', models.BigIntegerField(blank=True, null=True)),
                ('actor_api_key_id', models.BigIntegerField(blank=True, null=True)),
                ('actor_label', models.CharField(blank=True, max_length=200)),
                ('action', models.CharField(max_length=64)),
                ('object_type', models.CharField(blank=True, max_length=64)),
                ('object_id', models.CharField(blank=True, max_length=64)),
                ('object_label', models.CharField(blank=True, max_length=200)),
                ('changes', models.JSONField(blank=True, default=dict)),
                ('details', models.JSONField(blank=True, default=dict)),
                ('request_id', models.CharField(blank=True, max_length=64)),
                ('client_address', models.GenericIPAddressField(blank=True, null=True)),
                ('organization', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='contactcenter.organization')),
            ],
            options={
                'verbose_name_plural': 'audit entries',
                'ordering': ['-at', '-id'],
                'indexes': [
                    models.Index(fields=['organization', '-at', '-id'], name='audit_org_at'),
                    models.Index(fields=['organization', 'object_type', 'object_id'], name='audit_org_object'),
                    models.Index(fields=['organization', 'actor_user_id'], name='audit_org_user'),
                    models.Index(fields=['organization', 'actor_api_key_id'], name='audit_org_key'),
                ],
            },
        ),
        migrations.RunPython(_on_postgresql(GUARD), _on_postgresql(UNGUARD), elidable=False),
        migrations.CreateModel(
            name='APIKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('prefix', models.CharField(editable=False, max_length=16, unique=True)),
                ('key_hash', models.CharField(editable=False, max_length=64)),
                ('role', models.CharField(choices=[('admin', 'Admin'), ('supervisor', 'Supervisor')], default='supervisor', max_length=16)),
                ('write_resources', models.JSONField(blank=True, default=list)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('rotated_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_address', models.GenericIPAddressField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contactcenter.organization')),
            ],
            options={
                'verbose_name': 'API key',
                'ordering': ['organization_id', 'name', 'id'],
                'indexes': [models.Index(fields=['organization', 'revoked_at'], name='apikey_org_revoked')],
            },
        ),
    ]
