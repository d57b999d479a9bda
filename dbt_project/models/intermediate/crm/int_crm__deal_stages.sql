-- One row per known CRM deal stage: the vendor's stage (keyed by its label or internal id with
-- everything but letters and digits dropped, so "Appointment Scheduled", "appointmentscheduled"
-- and "Decision Maker Bought-In" / "decisionmakerboughtin" meet), its place in the vendor's default
-- pipeline, and the PLG stage (SPEC-seed §5) it maps to.
--
-- The mapping is monotonic: walking a vendor pipeline forward never moves a deal backwards in PLG
-- order (`is_monotonic`, tested). The seed's maps were not (Salesforce "Qualification" landed
-- after "Needs Analysis", HubSpot "qualifiedtobuy" after "presentationscheduled") and matched
-- HubSpot's internal ids only, so every label export became IDENTIFIED (§4.7, §12.11).
-- `seed_plg_stage` keeps the seed's answer for comparison. Every stage a sales rep works is
-- SALES_QUALIFIED ("a sales rep is engaged"); pricing and contract stages are NEGOTIATION; the
-- product stages (ACTIVATED, TEAM_ADOPTION, EXPANSION_SIGNAL) come from product usage, not a CRM.
-- int_crm__deals_unioned joins it to every deal (plg_stage, plg_stage_order per deal).

with

plg_stages (plg_stage, plg_stage_order) as (

    values
        ('ANONYMOUS_USAGE', 1),
        ('IDENTIFIED', 2),
        ('ACTIVATED', 3),
        ('TEAM_ADOPTION', 4),
        ('EXPANSION_SIGNAL', 5),
        ('SALES_QUALIFIED', 6),
        ('NEGOTIATION', 7),
        ('CLOSED_WON', 8),
        ('CLOSED_LOST', 8)

),

crm_stages (crm, stage_key, crm_stage, crm_stage_order, plg_stage, seed_plg_stage) as (

    values
        ('hubspot', 'appointmentscheduled', 'Appointment Scheduled', 1, 'SALES_QUALIFIED', 'ACTIVATED'),
        ('hubspot', 'qualifiedtobuy', 'Qualified To Buy', 2, 'SALES_QUALIFIED', 'SALES_QUALIFIED'),
        ('hubspot', 'presentationscheduled', 'Presentation Scheduled', 3, 'SALES_QUALIFIED', 'TEAM_ADOPTION'),
        ('hubspot', 'decisionmakerboughtin', 'Decision Maker Bought-In', 4, 'NEGOTIATION', 'EXPANSION_SIGNAL'),
        ('hubspot', 'contractsent', 'Contract Sent', 5, 'NEGOTIATION', 'NEGOTIATION'),
        ('hubspot', 'closedwon', 'Closed Won', 6, 'CLOSED_WON', 'CLOSED_WON'),
        ('hubspot', 'closedlost', 'Closed Lost', 7, 'CLOSED_LOST', 'CLOSED_LOST'),
        ('salesforce', 'prospecting', 'Prospecting', 1, 'IDENTIFIED', 'IDENTIFIED'),
        ('salesforce', 'qualification', 'Qualification', 2, 'SALES_QUALIFIED', 'SALES_QUALIFIED'),
        ('salesforce', 'needsanalysis', 'Needs Analysis', 3, 'SALES_QUALIFIED', 'ACTIVATED'),
        ('salesforce', 'valueproposition', 'Value Proposition', 4, 'SALES_QUALIFIED', 'TEAM_ADOPTION'),
        ('salesforce', 'iddecisionmakers', 'Id. Decision Makers', 5, 'SALES_QUALIFIED', 'IDENTIFIED'),
        ('salesforce', 'perceptionanalysis', 'Perception Analysis', 6, 'SALES_QUALIFIED', 'IDENTIFIED'),
        ('salesforce', 'proposalpricequote', 'Proposal/Price Quote', 7, 'NEGOTIATION', 'EXPANSION_SIGNAL'),
        ('salesforce', 'negotiationreview', 'Negotiation/Review', 8, 'NEGOTIATION', 'NEGOTIATION'),
        ('salesforce', 'closedwon', 'Closed Won', 9, 'CLOSED_WON', 'CLOSED_WON'),
        ('salesforce', 'closedlost', 'Closed Lost', 10, 'CLOSED_LOST', 'CLOSED_LOST')

),

ordered as (

    select
        crm_stages.crm || ':' || crm_stages.stage_key as deal_stage_id,
        crm_stages.crm,
        crm_stages.stage_key,
        crm_stages.crm_stage,
        crm_stages.crm_stage_order,
        crm_stages.plg_stage,
        plg_stages.plg_stage_order,
        crm_stages.seed_plg_stage,
        plg_stages.plg_stage_order >= coalesce(
            lag(plg_stages.plg_stage_order) over (partition by crm_stages.crm order by crm_stages.crm_stage_order),
            0
        ) as is_monotonic
    from crm_stages
    left join plg_stages on crm_stages.plg_stage = plg_stages.plg_stage

)

select * from ordered
