"""Entity search through an index where the database has one (SQLite FTS5 trigram, PostgreSQL pg_trgm): the
index exists after migrating, follows every insert, rename and delete, and a search finds what the scan did."""
from __future__ import annotations

from sqlalchemy import text

from knowco.services import Actor, import_file, merge_entities, search_entities
from storage.entity_search import has_fts

ANN = Actor("ann", "admin")


def _index_exists(db) -> bool:
    with db.sessions() as session:
        if db.is_sqlite:
            return has_fts(session)
        return session.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_entity_label_trgm'")).first() \
            is not None


def test_search_goes_through_the_index_and_stays_in_step(db, tmp_path):
    assert _index_exists(db)
    (tmp_path / "kg.tsv").write_text("aspirin\ttreats\theadache\nacetylsalicylic acid\ttreats\tfever\n"
                                     "ibuprofen\ttreats\tfever\n", encoding="utf-8")
    import_file(db, ANN, tmp_path / "kg.tsv")
    assert [e.name for e in search_entities(db, "spiri")] == ["aspirin"]  # a substring, through the index
    assert [e.name for e in search_entities(db, "acid acetyl")] == ["acetylsalicylic acid"]  # every word
    assert [e.name for e in search_entities(db, "ib")] == ["ibuprofen"]  # too short for trigrams: a scan
    merge_entities(db, ANN, "acetylsalicylic acid", "aspirin")  # a delete the index must follow
    assert [e.name for e in search_entities(db, "acetyl")] == []
    (tmp_path / "renamed.csv").write_text("head,relation,tail,head_label\nibuprofen,treats,fever,Brufen\n",
                                          encoding="utf-8")
    import_file(db, ANN, tmp_path / "renamed.csv")  # a new label the index must follow
    assert [e.name for e in search_entities(db, "brufen")] == ["ibuprofen"]
