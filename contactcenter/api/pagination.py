from rest_framework.pagination import CursorPagination, PageNumberPagination


class DefaultPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CallCursorPagination(CursorPagination):
    """The call list: the table that grows without bound.

    A page number needs the total, and PostgreSQL counts rows one by one: with a million
    calls that COUNT(*) cost hundreds of times the page itself, read through the
    (organization, -started_at) index (docs/benchmarks.md: the figures the code's
    comments rest on). A cursor page costs the index scan alone. Pages go by the
    ``next`` / ``previous`` links; ``?ordering=`` still applies (DRF keeps its position
    plus an offset for ties).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-started_at", "-id")
