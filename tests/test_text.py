"""Report strings exist in both languages."""

from __future__ import annotations

import re

from wecom_eval import text


def test_every_string_has_chinese_and_english_with_the_same_placeholders():
    for group, entries in text.strings().items():
        for key, entry in entries.items():
            assert set(entry) >= {"zh", "en"}, f"{group}.{key}"
            if isinstance(entry["zh"], str):
                fields = [set(re.findall(r"{(\w+)", entry[lang])) for lang in ("zh", "en")]
                assert fields[0] == fields[1], f"{group}.{key}"


def test_unknown_keys_show_as_they_are():
    assert text.lookup("features", "calendar", "zh") == "calendar"
    assert text.column_label("my_column", "en") == "my_column"


def test_the_strings_ship_with_the_package_beside_the_text_module():
    import tomllib
    from pathlib import Path

    package = Path(text.__file__).parent
    project = tomllib.loads((package.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["wecom_eval"]
    shipped = {p.relative_to(package).as_posix() for pattern in patterns for p in package.glob(pattern)}
    assert package / "strings.yaml" == text.STRINGS_PATH
    assert "strings.yaml" in shipped


def test_the_fast_parser_reads_the_same_table_as_the_pure_python_one():
    import pathlib

    import yaml

    import wecom_eval.ingest
    from wecom_eval.yamlfile import load_packaged

    aliases = pathlib.Path(wecom_eval.ingest.__file__).with_name("aliases.yaml")
    for path in (text.STRINGS_PATH, aliases):
        content = path.read_text(encoding="utf-8")
        assert load_packaged(content) == yaml.load(content, Loader=yaml.SafeLoader)  # noqa: S506
    assert text.strings() == yaml.load(text.STRINGS_PATH.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)  # noqa: S506
