import pytest

from tuneval.judge.parse import ParseFailure, json_objects, parse_preference, parse_score


def test_score_from_json():
    v = parse_score('{"reasoning": "fine", "score": 8}', 1, 10)
    assert (v.score, v.reasoning) == (8, "fine")


def test_score_takes_last_json_object_with_score():
    text = 'Example: {"score": 1} ... my verdict {"score": 7, "reasoning": "ok"} {"other": 2}'
    assert parse_score(text, 1, 10).score == 7


def test_score_from_fenced_json_and_integral_float_and_string():
    assert parse_score('```json\n{"score": 9.0}\n```', 1, 10).score == 9
    assert parse_score('{"Score": "6"}', 1, 10).score == 6


def test_score_from_rating_marker():
    assert parse_score("Rating: [[3]] and later [[ 5 ]]", 1, 10).score == 5


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"score": 11}', "outside the scale 1-10"),
        ('{"score": 0}', "outside the scale"),
        ("[[12]]", "outside the scale"),
        ('{"score": 7.5}', "not an integer"),
        ('{"score": true}', "boolean"),
        ('{"score": "great"}', "not a number"),
        ('{"score": null}', "not a number"),
        ("I would give it an eight", "no JSON object"),
        ('{"score": 8', "no JSON object"),
    ],
)
def test_score_failures_name_the_reason(text, needle):
    with pytest.raises(ParseFailure, match=needle):
        parse_score(text, 1, 10)


def test_custom_scale():
    assert parse_score('{"score": 5}', 1, 5).score == 5
    with pytest.raises(ParseFailure):
        parse_score('{"score": 6}', 1, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"winner": "A"}', "A"),
        ('{"winner": "b", "reasoning": "x"}', "B"),
        ('{"winner": "tie"}', "tie"),
        ('{"Winner": "Answer A"}', "A"),
        ("Final verdict: [[B]]", "B"),
        ("Final verdict: [[C]]", "tie"),
        ('noise {"a": 1} {"winner": "B"}', "B"),
    ],
)
def test_preference(text, expected):
    assert parse_preference(text).position == expected


@pytest.mark.parametrize("text", ['{"winner": "both"}', "A is better", "", '{"winner": 1}'])
def test_preference_failures(text):
    with pytest.raises(ParseFailure):
        parse_preference(text)


def test_json_objects_skips_broken_braces():
    assert json_objects('{bad} {"x": {"y": 1}} {"z": 2}') == [{"x": {"y": 1}}, {"z": 2}]
