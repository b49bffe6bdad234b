"""French opening hours, as volunteers type them, and the OpenStreetMap syntax."""

from __future__ import annotations

import pytest

from harvester.french_hours import parse_hours

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]


def slots(text: str) -> list[tuple[list[str], str, str]]:
    result = parse_hours(text)
    assert result.problems == [], result.problems
    return [(e["jours"], e["ouverture"], e["fermeture"]) for e in result.entries]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mar. 17h-19h", [(["mardi"], "17:00:00", "19:00:00")]),
        ("Lundi au vendredi 9h-12h", [(WEEKDAYS, "09:00:00", "12:00:00")]),
        ("du lundi au vendredi 9h-12h", [(WEEKDAYS, "09:00:00", "12:00:00")]),
        ("lundi-vendredi 9h-12h", [(WEEKDAYS, "09:00:00", "12:00:00")]),
        ("lun.-ven. 9h00 - 12h00", [(WEEKDAYS, "09:00:00", "12:00:00")]),
        ("Mercredi de 18h à 19h30", [(["mercredi"], "18:00:00", "19:30:00")]),
        ("Me 18:00-19:30", [(["mercredi"], "18:00:00", "19:30:00")]),
        ("lundi et jeudi 18h-19h", [(["lundi", "jeudi"], "18:00:00", "19:00:00")]),
        ("Mercredi 18 h 30 – 19 h 30", [(["mercredi"], "18:30:00", "19:30:00")]),
        ("samedi de 9h jusqu'à midi", [(["samedi"], "09:00:00", "12:00:00")]),
        (
            "lundi 9h-12h / 14h-18h",
            [(["lundi"], "09:00:00", "12:00:00"), (["lundi"], "14:00:00", "18:00:00")],
        ),
        (
            "du lundi au vendredi 9h-12h et 14h-18h, samedi 10h-12h, fermé le dimanche",
            [
                (WEEKDAYS, "09:00:00", "12:00:00"),
                (WEEKDAYS, "14:00:00", "18:00:00"),
                (["samedi"], "10:00:00", "12:00:00"),
            ],
        ),
        (
            "9h-12h le lundi et le mardi, 14h-18h le jeudi",
            [(["lundi", "mardi"], "09:00:00", "12:00:00"), (["jeudi"], "14:00:00", "18:00:00")],
        ),
        (
            "tous les jours de 9h à 18h sauf le dimanche",
            [([*WEEKDAYS, "samedi"], "09:00:00", "18:00:00")],
        ),
        (
            "du lundi au samedi sauf le mercredi 9h-18h",
            [(["lundi", "mardi", "jeudi", "vendredi", "samedi"], "09:00:00", "18:00:00")],
        ),
        (
            "lundi-dimanche 10h-11h; fermé le dimanche",
            [([*WEEKDAYS, "samedi"], "10:00:00", "11:00:00")],
        ),
        (
            "en semaine 8h-9h, le week-end 10h-12h",
            [(WEEKDAYS, "08:00:00", "09:00:00"), (["samedi", "dimanche"], "10:00:00", "12:00:00")],
        ),
        # the OpenStreetMap opening_hours syntax of the French open-data schemas
        (
            "Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00; Su off",
            [
                (WEEKDAYS, "09:00:00", "12:00:00"),
                (WEEKDAYS, "14:00:00", "18:00:00"),
                (["samedi"], "10:00:00", "12:00:00"),
            ],
        ),
        ("Mo,We 08:00-12:00", [(["lundi", "mercredi"], "08:00:00", "12:00:00")]),
        (
            "Fr-Mo 18:00-20:00",
            [(["lundi", "vendredi", "samedi", "dimanche"], "18:00:00", "20:00:00")],
        ),
    ],
)
def test_what_people_type_becomes_hours(text, expected):
    assert slots(text) == expected


def test_closed_days_are_understood_and_give_no_hours():
    result = parse_hours("fermé le dimanche")
    assert result.entries == [] and result.problems == [] and result.closed == ["dimanche"]
    assert parse_hours("Su off").closed == ["dimanche"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("17h30", "fin manque"),
        ("mercredi 17h30", "fin manque"),
        ("9h-12h / 14h-18h", "jours manquent"),
        ("lundi et jeudi", "heures manquent"),
        ("samedi matin", "matin"),
        ("le 1er mercredi du mois 18h-19h", "1er"),
        ("PH off", "PH"),
        ("24/7", "24"),
        ("mercredi 18h-minuit", "minuit"),
        ("sam 14h-12h", "n'est pas après"),
        ("lundi 25h-26h", "compris"),
    ],
)
def test_what_is_not_understood_is_kept_with_its_reason(text, reason):
    result = parse_hours(text)
    assert result.entries == []
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.text == text
    assert reason in problem.fr, problem.fr
    assert problem.en and problem.en != problem.fr


def test_a_rule_not_understood_leaves_the_others():
    result = parse_hours("Mo-Fr 09:00-18:00; PH off; samedi matin")
    assert [(e["jours"], e["ouverture"]) for e in result.entries] == [(WEEKDAYS, "09:00:00")]
    assert [p.text for p in result.problems] == ["PH off", "samedi matin"]
