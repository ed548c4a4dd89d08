"""The data-model page is generated from the model; it must not drift from the code."""

from pathlib import Path

from marketops.schema.docs import render


def test_data_model_doc_matches_the_model():
    doc = Path(__file__).parent.parent / "docs" / "data-model.md"
    assert doc.read_text() == render(), "run: python -m marketops.schema.docs > docs/data-model.md"
