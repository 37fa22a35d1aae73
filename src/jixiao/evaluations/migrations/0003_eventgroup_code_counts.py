from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0002_event_key")]

    operations = [
        migrations.AddField(
            model_name="eventgroup",
            name="codes_issued",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="发放测评码数"
            ),
        ),
        migrations.AddField(
            model_name="eventgroup",
            name="codes_used",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="已使用测评码数"
            ),
        ),
    ]
