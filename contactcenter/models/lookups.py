"""``field__any=values``: the rows whose field is one of ``values``, as ``__in`` would
find them, with the values sent as one array parameter on PostgreSQL (``= ANY(%s)``).

The statement's text is then the same however many values there are, so a read built
once can be bound again (``config.db.roundtrips.Shape``). Values are not converted
field by field: pass them as the column holds them (ints for keys, strings for text).
Elsewhere (SQLite) it is ``IN (%s, ...)``, one parameter per value.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import CharField, Field, ForeignObject, Lookup, TextField


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, str) or not hasattr(self.rhs, "__iter__"):
            raise TypeError(f"{self.lookup_name}: a list of values, not {self.rhs!r}")
        return self.rhs  # as given: a Shape finds its placeholder list in the parameters

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{_array_of(self.lhs.output_field, connection)}[])", [
                *lhs_params,
                values,
            ]
        if not values:
            raise EmptyResultSet
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({marks})", [*lhs_params, *values]


# Foreign keys keep lookups of their own, apart from the other fields'.
Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)


def _array_of(field: Field[Any, Any], connection: Any) -> str:
    # Text compares as text: a varchar(n)[] cast would cut a longer value to n and match.
    if isinstance(field, CharField | TextField):
        return "text"
    db_type = field.db_type(connection)  # a foreign key's is its target's
    if db_type is None:
        raise TypeError(f"any: no column type for {field!r}")
    return db_type
