# Queue alerts (issue 31): thresholds on the queue, alerts raised and cleared.

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contactcenter", "0021_queue_max_wait_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="callqueue",
            name="alert_longest_wait_seconds",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Alert while a caller has waited longer than this.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="callqueue",
            name="alert_service_level_percent",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Alert while today's service level is below this percentage.",
                null=True,
                validators=[django.core.validators.MaxValueValidator(100)],
            ),
        ),
        migrations.AddField(
            model_name="callqueue",
            name="alert_callers_waiting",
            field=models.PositiveIntegerField(
                blank=True, help_text="Alert while more callers than this wait.", null=True
            ),
        ),
        migrations.AddField(
            model_name="callqueue",
            name="alert_agents_available",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Alert while fewer logged-in agents than this are available.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="QueueAlert",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("longest_wait", "longest_wait"),
                            ("service_level", "service_level"),
                            ("callers_waiting", "callers_waiting"),
                            ("agents_available", "agents_available"),
                        ],
                        max_length=24,
                    ),
                ),
                (
                    "threshold",
                    models.PositiveIntegerField(help_text="The queue's threshold when raised."),
                ),
                ("value", models.FloatField(help_text="The figure when raised.")),
                ("raised_at", models.DateTimeField()),
                ("recovered_at", models.DateTimeField(blank=True, null=True)),
                ("cleared_at", models.DateTimeField(blank=True, null=True)),
                ("cleared_value", models.FloatField(blank=True, null=True)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contactcenter.organization",
                    ),
                ),
                (
                    "queue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alerts",
                        to="contactcenter.callqueue",
                    ),
                ),
            ],
            options={
                "ordering": ["-raised_at", "-id"],
                "indexes": [
                    models.Index(fields=["organization", "raised_at"], name="queuealert_org_raised")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("cleared_at__isnull", True)),
                        fields=("queue", "kind"),
                        name="queuealert_one_open_per_kind",
                    )
                ],
            },
        ),
    ]
