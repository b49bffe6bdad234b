"""The one error a feed can cause before validation: it cannot be read as RDF."""

from __future__ import annotations


class FeedError(Exception):
    """A feed that cannot be read, with a one-line explanation in French and English."""

    def __init__(self, fr: str, en: str, *, line: int | None = None, column: int | None = None):
        super().__init__(en)
        self.fr = fr
        self.en = en
        self.line = line
        self.column = column

    def message(self, lang: str = "fr") -> str:
        text = self.fr if lang == "fr" else self.en
        if self.line is not None:
            where = f"ligne {self.line}" if lang == "fr" else f"line {self.line}"
            if self.column is not None:
                where += f", colonne {self.column}" if lang == "fr" else f", column {self.column}"
            text = f"{text} ({where})"
        return text
