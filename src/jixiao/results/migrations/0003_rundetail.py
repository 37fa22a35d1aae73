import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Run detail frames; ``EntityResult.explanation`` keeps its column as ``stored_explanation``."""

    dependencies = [
        ("results", "0002_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RunDetail",
            fields=[
                (
                    "run",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="detail",
                        serialize=False,
                        to="results.scoringrun",
                        verbose_name="批次",
                    ),
                ),
                ("entities", models.BinaryField(verbose_name="对象结果（Parquet）")),
                ("components", models.BinaryField(verbose_name="构成得分（Parquet）")),
                ("indicators", models.BinaryField(verbose_name="指标得分（Parquet）")),
                ("raters", models.BinaryField(verbose_name="测评得分（Parquet）")),
                ("adjustments", models.BinaryField(verbose_name="加减分（Parquet）")),
                ("decisions", models.JSONField(default=dict, verbose_name="等次判定")),
                ("scheme", models.JSONField(default=dict, verbose_name="考核方案")),
            ],
            options={
                "verbose_name": "计分明细",
                "verbose_name_plural": "计分明细",
            },
        ),
        # The column stays "explanation"; only the model field's name changes (no SQL).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(
                    model_name="entityresult", old_name="explanation", new_name="stored_explanation"
                ),
                migrations.AlterField(
                    model_name="entityresult",
                    name="stored_explanation",
                    field=models.JSONField(db_column="explanation", default=dict, verbose_name="计分说明"),
                ),
            ],
        ),
    ]
