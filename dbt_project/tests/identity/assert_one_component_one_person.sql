-- Every identifier of a connected component belongs to the same person (a person may span several
-- components only through a manual merge). Fails with each component that has two person ids.

select component_key, count(distinct person_id) as count_people
from {{ ref('int_identity__person_identifiers') }}
group by component_key
having count(distinct person_id) > 1
