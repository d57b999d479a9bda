-- An alias points at a current person, never at another alias, and no current person is an alias.

select aliases.alias_person_id, 'points at an alias' as problem
from {{ ref('dim_person_aliases') }} as aliases
inner join {{ ref('dim_person_aliases') }} as chained on aliases.person_id = chained.alias_person_id

union all

select aliases.alias_person_id, 'is still a person'
from {{ ref('dim_person_aliases') }} as aliases
inner join {{ ref('dim_people') }} as people on aliases.alias_person_id = people.person_id
