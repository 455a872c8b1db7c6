from rest_framework.pagination import LimitOffsetPagination


class ApiPagination(LimitOffsetPagination):
    # A cap keeps ?limit= from asking the database for an unbounded (or overflowing) slice.
    max_limit = 100
