-- A person is credited to at most one account per day: in the signals, and in the spells (which
-- must not overlap). Fails with one row per offending (person, day) or overlapping spell pair.

select person_id, occurred_on as day, count(distinct account_id) as count_accounts, 'fct_signals' as found_in
from {{ ref('fct_signals') }}
where account_id is not null
group by person_id, occurred_on
having count(distinct account_id) > 1

union all

select a.person_id, coalesce(b.valid_from, a.valid_from), 2, 'int_identity__person_account_spells'
from {{ ref('int_identity__person_account_spells') }} as a
inner join {{ ref('int_identity__person_account_spells') }} as b
    on a.person_id = b.person_id
    and a.person_account_spell_id < b.person_account_spell_id
    and coalesce(a.valid_from, '-infinity'::date) < coalesce(b.valid_to, 'infinity'::date)
    and coalesce(b.valid_from, '-infinity'::date) < coalesce(a.valid_to, 'infinity'::date)
