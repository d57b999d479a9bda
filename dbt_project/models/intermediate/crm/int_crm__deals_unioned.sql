-- One row per CRM deal: HubSpot deals and Salesforce opportunities, with the PLG stage their
-- stage maps to (int_crm__deal_stages, labels and internal ids alike). A stage the map does not
-- know, or a missing one, is IDENTIFIED as in the seed (§4.7), and says so (is_known_stage).
-- No deduplication across CRMs: the same deal in both is two rows (crm_source tells them apart).

with

stages as (

    select * from {{ ref('int_crm__deal_stages') }}

),

deals as (

    select
        'hubspot' as crm_source,
        hubspot_deal_id as crm_deal_record_id,
        deal_name,
        hubspot_company_id,
        cast(null as text) as salesforce_account_id,
        company_name,
        deal_stage,
        deal_stage_key,
        amount,
        close_date,
        created_at,
        source_file,
        source_line
    from {{ ref('stg_crm__hubspot_deals') }}

    union all

    select
        'salesforce',
        salesforce_opportunity_id,
        opportunity_name,
        null,
        salesforce_account_id,
        account_name,
        opportunity_stage,
        opportunity_stage_key,
        amount,
        close_date,
        created_at,
        source_file,
        source_line
    from {{ ref('stg_crm__salesforce_opportunities') }}

),

final as (

    select
        deals.crm_source || ':' || deals.crm_deal_record_id as crm_deal_id,
        deals.crm_source,
        deals.crm_deal_record_id,
        deals.deal_name,
        deals.hubspot_company_id,
        deals.salesforce_account_id,
        deals.company_name,
        deals.deal_stage,
        coalesce(stages.plg_stage, 'IDENTIFIED') as plg_stage,
        coalesce(stages.plg_stage_order, 2) as plg_stage_order,
        stages.deal_stage_id is not null as is_known_stage,
        coalesce(stages.plg_stage in ('CLOSED_WON', 'CLOSED_LOST'), false) as is_closed,
        coalesce(stages.plg_stage = 'CLOSED_WON', false) as is_won,
        deals.amount,
        deals.close_date,
        deals.created_at,
        deals.source_file,
        deals.source_line
    from deals
    left join stages
        on deals.crm_source = stages.crm
        and deals.deal_stage_key = stages.stage_key
    where deals.crm_deal_record_id is not null

)

select * from final
