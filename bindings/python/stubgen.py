"""Writes the package's type stubs (banyan/__init__.pyi) from stubs/__init__.pyi.in and
the record types' fields as the built module describes them.

    python3 stubgen.py TEMPLATE OUTPUT      (with the built package on PYTHONPATH)
"""

import sys
from pathlib import Path

# The package as built, not its sources beside this script.
_HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import banyan  # noqa: E402
from banyan import _banyan  # noqa: E402

STORE_SET = {"id", "version", "created_at", "created_by", "updated_at", "updated_by",
             "archived_at"}


def record_classes() -> str:
    blocks = []
    for type_name, fields, _ in _banyan.record_types():
        cls = banyan._CLASSES[type_name]
        lines = [f"class {cls.__name__}(Record):", f'    """{cls.__doc__}"""']
        for name, flags in fields:
            kind = flags["python_type"]
            if name in STORE_SET and not kind.startswith("Optional["):
                kind = f"Optional[{kind}]"
            lines.append(f"    {name}: {kind}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main() -> None:
    template, output = sys.argv[1], sys.argv[2]
    text = open(template).read().replace("@RECORD_CLASSES@", record_classes(), 1)
    with open(output, "w") as out:
        out.write(text)


if __name__ == "__main__":
    main()
