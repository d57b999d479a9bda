-- A blocked identifier has no person and no active edge.

select identifier_key, 'has a person' as problem
from {{ ref('dim_identifiers') }}
where is_blocked and person_id is not null

union all

select edges.identifier_key_a, 'has an active edge'
from {{ ref('int_identity__edges') }} as edges
inner join {{ ref('int_identity__identifiers') }} as a on edges.identifier_key_a = a.identifier_key
inner join {{ ref('int_identity__identifiers') }} as b on edges.identifier_key_b = b.identifier_key
where edges.is_active and (a.is_blocked or b.is_blocked)
