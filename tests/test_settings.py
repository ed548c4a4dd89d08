"""marketops.yaml: clear errors with file and line, and every setting documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketops.errors import ConfigError
from marketops.settings import EnvSettings, WorkspaceConfig, load_config

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


@pytest.mark.parametrize("yaml, line, words", [
    ("name: x\nengine: postgres\n", 2, "'postgres' is not allowed"),
    ("name: x\ntimezone: Mars/Olympus\n", 2, "unknown time zone"),
    ("name: x\nreporting_currency: euro\n", 2, "ISO 4217"),
    ("name: x\nsources:\n  - pattern: a.csv\n    entity: peple\n", 4, "did you mean 'people'"),
    ("name: [unclosed\n", 2, "not valid YAML"),
    ("name: x\ndefault_region: Italy\n", 2, "did you mean 'IT'"),
    ("name: x\ndefault_region: XX\n", 2, "two-letter ISO 3166 country code"),
    ("name: x\nsource_aliases:\n  fb: ''\n", 2, "needs a spelling and a source name"),
])
def test_config_errors_name_file_line_and_valid_values(tmp_path, yaml, line, words):
    p = tmp_path / "marketops.yaml"
    p.write_text(yaml)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert f"marketops.yaml:{line}" in str(e.value)
    assert words in str(e.value)


def test_every_setting_is_documented():
    text = DOCS.read_text()
    for model in (WorkspaceConfig, EnvSettings):
        for name, field in model.model_fields.items():
            assert field.description, f"{name} has no help text"
            key = f"MARKETOPS_{name.upper()}" if model is EnvSettings else f"`{name}`"
            assert key in text, f"{key} is missing from docs/configuration.md"


def test_every_nested_setting_is_documented_on_its_page():
    """identity:, survivorship: and quality: keys each have a row on the page that explains them."""
    from marketops.quality.scorecard_thresholds import QualityThreshold

    pages = {"identity": "identity.md", "survivorship": "identity.md", "quality": "quality.md"}
    for section, page in pages.items():
        text = (DOCS.parent / page).read_text()
        models = [WorkspaceConfig.model_fields[section].annotation] + ([QualityThreshold] if section == "quality" else [])
        for model in models:
            for name, field in model.model_fields.items():
                assert field.description, f"{section}.{name} has no help text"
                assert f"`{name}`" in text, f"{section}.{name} is missing from docs/{page}"


def test_default_config_mentions_the_cleaning_settings_and_loads(tmp_path):
    from marketops.settings import default_config_text

    text = default_config_text("Acme")
    assert "# default_region:" in text and "# source_aliases:" in text
    assert "# identity:" in text and "# survivorship:" in text and "# quality:" in text
    p = tmp_path / "marketops.yaml"
    p.write_text(text.replace("# default_region: IT", "default_region: it"))
    cfg = load_config(p)
    assert cfg.default_region == "IT" and cfg.source_aliases == {}
