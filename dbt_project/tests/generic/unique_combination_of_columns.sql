{#- Fails with one row per combination of the columns that occurs more than once (the dbt_utils test,
    written here because hub packages cannot be fetched). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as count_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
