"""The sheet of nights: rows become nights with their sequences; every inconsistency is named."""

import pytest

from astropipe.night_sheet import SheetError, nights_from_config, read_night_sheet

HEADER = "night\tfield\tfilter\tseed\traw_directory\n"
SETTINGS = {
    "object_name": "object11",
    "object_filters": ["H", "Ks"],
    "survey_fields": ["cand01", "cand02"],
    "survey_filter": "Ks",
}


def _sheet(tmp_path, rows, header=HEADER, name="nights.tsv"):
    path = tmp_path / name
    path.write_text(header + "".join(rows))
    return path


def test_rows_become_nights_with_their_sequences(tmp_path):
    path = _sheet(
        tmp_path,
        [
            "2002-07-05\tobject11\tH\t7\t\n",
            "2002-07-05\tobject11\tKs\t7\t\n",
            "2002-07-05\tcand01\tKs\t7\t\n",
            "2002-07-06\tobject11\tKs\t\t/data/n2\n",
        ],
    )
    nights = read_night_sheet(path, **SETTINGS)
    assert list(nights) == ["2002-07-05", "2002-07-06"]
    first, second = nights.values()
    assert first.simulated and first.seed == 7
    assert first.sequences == [("object11", "H"), ("object11", "Ks"), ("cand01", "Ks")]
    assert not second.simulated and second.raw_directory == "/data/n2" and second.seed is None


def test_a_csv_sheet_is_read_too(tmp_path):
    path = _sheet(tmp_path, ["2002-07-05,object11,H,7,\n"], header=HEADER.replace("\t", ","), name="nights.csv")
    assert read_night_sheet(path, **SETTINGS)["2002-07-05"].sequences == [("object11", "H")]


CASE_NAMES = [
    "date",
    "filter",
    "object filter",
    "unknown field",
    "survey filter",
    "seed and directory",
    "neither",
    "seed",
    "night disagrees",
    "duplicate",
    "empty",
]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["2002-07-32\tobject11\tH\t7\t\n"], "line 2: night = '2002-07-32' is not a date"),
        (["2002-07-05\tobject11\tK\t7\t\n"], "line 2: filter = 'K'; expected one of"),
        (["2002-07-05\tobject11\tJ\t7\t\n"], "the object field 'object11' has no sequence in filter 'J'"),
        (["2002-07-05\tcand09\tKs\t7\t\n"], "field = 'cand09' is neither the object field"),
        (["2002-07-05\tcand01\tH\t7\t\n"], "survey field 'cand01' in filter 'H'; the survey is observed in 'Ks'"),
        (
            ["2002-07-05\tobject11\tH\t7\t/data\n"],
            "give either a seed (simulate the night) or a raw_directory (real data), not both",
        ),
        (["2002-07-05\tobject11\tH\t\t\n"], "not neither"),
        (["2002-07-05\tobject11\tH\tseven\t\n"], "seed = 'seven'; expected a non-negative integer"),
        (["2002-07-05\tobject11\tH\t7\t\n", "2002-07-05\tobject11\tKs\t8\t\n"], "line 3: night 2002-07-05 has seed 8"),
        (["2002-07-05\tobject11\tH\t7\t\n", "2002-07-05\tobject11\tH\t7\t\n"], "lists object11 in H twice"),
        ([], "the sheet has no rows"),
    ],
    ids=CASE_NAMES,
)
def test_an_inconsistent_sheet_is_named(tmp_path, rows, message):
    with pytest.raises(SheetError, match=f"nights.tsv: .*{__import__('re').escape(message)}"):
        read_night_sheet(_sheet(tmp_path, rows), **SETTINGS)


def test_a_missing_column_is_named(tmp_path):
    path = _sheet(tmp_path, ["2002-07-05\tobject11\tH\t7\n"], header="night\tfield\tfilter\tseed\n")
    with pytest.raises(SheetError, match=r"missing column\(s\) \['raw_directory'\]"):
        read_night_sheet(path, **SETTINGS)


def test_without_a_sheet_the_configured_night_has_every_sequence():
    imaging = {
        "night": "2002-07-04",
        "seed": 1,
        "raw_directory": None,
        "object": {"name": "object11", "sequences": {"H": {}, "Ks": {}}},
        "survey": {"filter": "Ks"},
    }
    night = nights_from_config(imaging, ["cand01"])["2002-07-04"]
    assert night.simulated and night.sequences == [("object11", "H"), ("object11", "Ks"), ("cand01", "Ks")]
