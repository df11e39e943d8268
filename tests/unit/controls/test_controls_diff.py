"""Diff of two catalog versions: exactly which controls were added, removed and changed, and how."""

from __future__ import annotations

from controls_testdata import decode_json_document, small_catalog, small_dict

from controls import diff_catalogs


def test_identical_catalogs_have_an_empty_diff() -> None:
    diff = diff_catalogs(small_catalog(), small_catalog())
    assert diff.is_empty
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


def test_added_removed_and_changed_controls() -> None:
    old = small_catalog()
    document = small_dict()
    document["version"] = "1.1.0"
    document["controls"][0]["statement"] = "The provider does the first thing every hour."
    document["controls"][0]["categories"].append("digital_platform")
    del document["controls"][2]  # BBB-01.1 removed
    document["controls"].append(
        {
            "id": "BBB-02",
            "family": "BBB",
            "pillar": "privacy",
            "title": "Third control",
            "statement": "The provider lets people withdraw consent.",
            "guidance": "Same channel, same steps.",
            "categories": ["digital_platform"],
            "evidence_expected": ["Screenshots"],
            "mappings": [{"framework": "gdpr", "ref": "Art. 7(3)"}],
            "sources": [{"document": "seed", "paragraph": "3"}],
        }
    )
    new = decode_json_document(document)

    diff = diff_catalogs(old, new)
    assert (diff.old_version, diff.new_version) == ("1.0.0", "1.1.0")
    assert [control.id for control in diff.added] == ["BBB-02"]
    assert [control.id for control in diff.removed] == ["BBB-01.1"]
    assert [change.id for change in diff.changed] == ["AAA-01"]
    change = diff.changed[0]
    assert change.fields == ["statement", "categories"]
    assert change.changes[0].old == "The provider does the first thing every day."
    assert change.changes[0].new == "The provider does the first thing every hour."
    assert change.changes[1].old == ["telecom_operator", "cloud_hosting"]
    assert change.changes[1].new == ["telecom_operator", "cloud_hosting", "digital_platform"]
    assert not diff.is_empty
    assert (diff.families_added, diff.families_removed, diff.families_changed) == ([], [], [])


def test_mapping_and_parent_changes_are_reported_in_builtins_form() -> None:
    document = small_dict()
    document["controls"][2]["mappings"] = [{"framework": "gdpr", "ref": "Art. 30"}]
    document["controls"][2]["parent"] = None
    diff = diff_catalogs(small_catalog(), decode_json_document(document))
    assert [change.id for change in diff.changed] == ["BBB-01.1"]
    mappings, parent = diff.changed[0].changes
    assert (mappings.field, mappings.old, mappings.new) == (
        "mappings",
        [{"framework": "gdpr", "ref": "Art. 5(2)"}],
        [{"framework": "gdpr", "ref": "Art. 30"}],
    )
    assert (parent.field, parent.old, parent.new) == ("parent", "BBB-01", None)


def test_family_changes() -> None:
    document = small_dict()
    document["families"][0]["title"] = "First family, renamed"
    document["families"].append({"id": "CCC", "title": "New family"})
    document["controls"].append(dict(document["controls"][0], id="CCC-01", family="CCC"))
    diff = diff_catalogs(small_catalog(), decode_json_document(document))
    assert [family.id for family in diff.families_added] == ["CCC"]
    assert [(c.id, c.changes[0].field, c.changes[0].new) for c in diff.families_changed] == [
        ("AAA", "title", "First family, renamed")
    ]
    assert [control.id for control in diff.added] == ["CCC-01"]
    assert diff.removed == [] and diff.changed == []
