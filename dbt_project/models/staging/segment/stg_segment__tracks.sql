{%- set columns = source_columns(source('segment', 'tracks')) -%}
{%- set property_columns = [] -%}
{%- for column in columns if column.startswith('properties__') -%}
    {%- do property_columns.append(column) -%}
{%- endfor -%}

with

source as (

    select * from {{ source('segment', 'tracks') }}

),

renamed as (

    select
        ---------- ids
        cast(message_id as text) as segment_message_id,
        {{ clean_text(column_or_null(columns, 'user_id')) }} as segment_user_id,
        {{ clean_text(column_or_null(columns, 'anonymous_id')) }} as segment_anonymous_id,

        ---------- event
        trim(cast(event as text)) as event_name,
        {{ clean_text(column_or_null(columns, 'properties__feature')) }} as feature_name,
        {% if property_columns -%}
        jsonb_strip_nulls(
            {%- for batch in property_columns | batch(40) %}
            jsonb_build_object(
                {%- for column in batch %}
                '{{ column[12:] }}', {{ adapter.quote(column) }}{{ "," if not loop.last }}
                {%- endfor %}
            ){{ " ||" if not loop.last }}
            {%- endfor %}
        ) as properties,
        {%- else -%}
        '{}'::jsonb as properties,
        {%- endif %}

        ---------- context
        {{ clean_text(column_or_null(columns, 'context__user_agent')) }} as user_agent,

        ---------- timestamps
        {{ parse_timestamp('"timestamp"') }} as occurred_at

    from source

)

select * from renamed
