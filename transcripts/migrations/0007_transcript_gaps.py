from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transcripts", "0006_job_heartbeat_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="transcript",
            name="gaps",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="[{start, end}, ...]: seconds that sounded like speech where no words were recognised.",
            ),
        ),
    ]
