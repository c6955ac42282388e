"""The malformed corpus: every file is refused over the API with its status, a message and a
place, and no version is stored. Both databases. The files and `manifest.json` are written by
corpus/make_corpus.py; corpus/README.md lists what is wrong with each."""

import json
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assumptions.models import AssumptionSet

CORPUS = Path(__file__).resolve().parent / "corpus"
ENTRIES = json.loads((CORPUS / "manifest.json").read_text())
API = "/api/v1/deals/coreweave-core-scientific/assumptions"


def test_the_corpus_covers_every_encoding() -> None:
    kinds = Counter(entry["file"].split("-")[0] for entry in ENTRIES)
    assert len(ENTRIES) >= 30 and min(kinds[k] for k in ("json", "csv", "xlsx")) >= 10, kinds
    on_disk = {p.name for p in CORPUS.iterdir() if p.name.split("-")[0] in kinds}
    assert on_disk == {entry["file"] for entry in ENTRIES}
    assert all(entry["file"] in (CORPUS / "README.md").read_text() for entry in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["file"] for entry in ENTRIES])
def test_malformed_file_is_refused(client: TestClient, seeded: Session, entry: dict) -> None:
    data = (CORPUS / entry["file"]).read_bytes()
    response = client.post(API, files={"file": (entry["file"], data, "application/octet-stream")})
    assert response.status_code == entry["status"], response.text
    problems = response.json()["detail"]
    assert problems and all(p["loc"] and p["loc"][0] and p["msg"] for p in problems)
    assert any(entry["message"] in p["msg"] and entry["place"] in p["loc"][0] for p in problems), (
        problems
    )
    assert seeded.scalar(select(func.count()).select_from(AssumptionSet)) == 1
