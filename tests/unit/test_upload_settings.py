"""Specification of the per-upload settings rule (pipeline.upload_settings): object tag, else the longest
matching key prefix, else the stack default; a bad tag is bad input, a bad stack rule is an error."""

from __future__ import annotations

import pytest
from pipeline.outcomes import UnsupportedInput
from pipeline.upload_settings import UploadSetting, choice, prefix_rules, resolve, written_value

COLOUR = UploadSetting("colour", choice(("red", "green", "blue"), "a colour"))
RULES = "calls/=red, calls/vip/=green"


def test_the_tag_wins_over_the_prefix_and_the_default() -> None:
    assert resolve(COLOUR, {"Colour": " BLUE "}, "calls/vip/a.wav", RULES, default="red") == "blue"


def test_without_a_tag_the_longest_matching_prefix_wins() -> None:
    assert resolve(COLOUR, {}, "calls/vip/a.wav", RULES, default="blue") == "green"
    assert resolve(COLOUR, {}, "calls/a.wav", RULES, default="blue") == "red"


def test_without_either_the_default_and_without_a_default_nothing() -> None:
    assert resolve(COLOUR, {"team": "red"}, "podcasts/a.mp3", RULES, default="blue") == "blue"
    assert resolve(COLOUR, {}, "podcasts/a.mp3", RULES) is None


def test_where_the_value_came_from_is_said() -> None:
    assert written_value("colour", {}, "calls/vip/x", RULES).source == "prefix calls/vip/"  # type: ignore[union-attr]


def test_a_bad_tag_is_bad_input_naming_the_tag_and_the_values_allowed() -> None:
    with pytest.raises(UnsupportedInput, match=r"colour='mauve'.*red, green, blue"):
        resolve(COLOUR, {"colour": "mauve"}, "a.wav")


@pytest.mark.parametrize(("rules", "default"), [("calls/=mauve", ""), ("", "mauve")])
def test_a_bad_stack_rule_is_a_configuration_error_not_bad_input(rules: str, default: str) -> None:
    with pytest.raises(ValueError, match="mauve") as raised:
        resolve(COLOUR, {}, "calls/a.wav", rules, default)
    assert not isinstance(raised.value, UnsupportedInput)


def test_malformed_prefix_rules_fail_by_name() -> None:
    with pytest.raises(ValueError, match="COLOUR_BY_PREFIX entry 'calls/'"):
        prefix_rules("calls/", "COLOUR_BY_PREFIX")
