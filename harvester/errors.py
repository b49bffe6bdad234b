"""What a feed can cause instead of a validation: it cannot be read as RDF
(FeedError), or the SHACL engine failed on it (EngineError)."""

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


class EngineError(FeedError):
    """The SHACL engine failed on a feed that was read: validation is impossible.

    A FeedError, so that every caller treats it as a feed that cannot be checked:
    ``ltc validate`` exits with status 2, a harvest fails the source with this reason
    and keeps its data as it was."""

    def __init__(self, engine: str, error: BaseException):
        detail = " ".join(str(error).split())
        reason = type(error).__name__
        if detail and not detail.startswith("[<"):  # decimal's "[<class '…'>]" says nothing
            reason += f": {detail[:200]}"
        super().__init__(
            f"validation impossible : le moteur SHACL {engine} a échoué ({reason})",
            f"validation impossible: the {engine} SHACL engine failed ({reason})",
        )
        self.engine = engine
        self.error = error
