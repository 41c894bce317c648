from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 200


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)


class StandardPagination(PageNumberPagination):
    """Pages asked for by number; a page or page size that is not a whole number in range is
    refused with 400 and the parameter's message, as the schema documents them (DRF's own
    paginator would quietly serve the default instead). A page past the last is 404."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # the schema documents `page` as a number

    def get_page_size(self, request):
        # Every paginator asks for the page size first, so both parameters are checked here.
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("page_size", self.page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters
