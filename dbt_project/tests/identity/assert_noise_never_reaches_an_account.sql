-- Noise (bots, the vendor's staff, test accounts) has no account and no row in fct_signals.

select person_id, 'noise person with an account' as problem
from {{ ref('dim_people') }}
where noise_reason is not null and account_id is not null

union all

select signals.signal_id, 'noise signal in fct_signals'
from {{ ref('fct_signals') }} as signals
inner join {{ ref('int_signals__noise') }} as noise on signals.signal_id = noise.signal_id
