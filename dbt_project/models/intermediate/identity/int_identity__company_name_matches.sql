{{ config(materialized='table') }}

-- One row per distinct free-text company name in the sources (GitHub `company`, Segment
-- traits.company, CRM contact company / account names) with the candidate account it matches:
--   exact_key  its name key (company_name_key) is the key of exactly one candidate domain
--              (int_identity__account_names); a GitHub `@handle` also tries github_org_key
--   tfidf      otherwise: cosine similarity of TF-IDF vectors of character 3-grams within words
--              (scikit-learn's TfidfVectorizer(analyzer='char_wb', ngram_range=(3, 3)), smooth idf,
--              l2 norm), best candidate domain. The vectoriser is fitted on the candidate names
--              *and* the names being matched: fitted on candidates alone, a word no candidate has
--              would simply vanish from the query ("umbrella labs" would equal "umbrella").
-- `is_accepted`: exact, or TF-IDF similarity >= var identity_fuzzy_threshold with a margin of at
-- least var identity_fuzzy_margin over the best other domain. The threshold is calibrated against
-- the demo world's ground truth (bench/identity.py; README.md in this folder). tests/identity checks
-- these similarities against scikit-learn's own to 1e-9.

{%- set threshold = var('identity_fuzzy_threshold', 0.86) -%}
{%- set margin = var('identity_fuzzy_margin', 0.1) %}

with

records as (

    select company_text from {{ ref('int_identity__source_records') }} where company_text is not null
    union
    select account_name_hint from {{ ref('int_identity__source_records') }} where account_name_hint is not null

),

queries as (

    select
        company_text,
        {{ company_name_text('company_text') }} as query_text,
        {{ company_name_key('company_text') }} as query_key,
        case when {{ trim_ws('company_text') }} like '@%' then {{ github_org_key('company_text') }} end as handle_key
    from records
    where {{ company_text_domain('company_text') }} is null

),

account_names as (

    select * from {{ ref('int_identity__account_names') }}

),

key_domains as (

    select name_key, min(account_domain) as account_domain, count(distinct account_domain) as count_domains
    from account_names
    group by name_key

),

exact_matches as (

    select distinct on (queries.company_text)
        queries.company_text,
        key_domains.account_domain,
        key_domains.count_domains
    from queries
    inner join key_domains on key_domains.name_key in (queries.query_key, queries.handle_key)
    order by queries.company_text, key_domains.count_domains, key_domains.name_key = queries.query_key desc

),

-- TF-IDF over character 3-grams, for the names exact matching could not place ------------------------

fuzzy_queries as (

    select distinct queries.query_text
    from queries
    where queries.query_text is not null
        and not exists (
            select 1 from exact_matches
            where exact_matches.company_text = queries.company_text and exact_matches.count_domains = 1
        )

),

documents as (

    select
        row_number() over (order by name_text, account_domain) as document_id,
        name_text,
        account_domain
    from (select distinct name_text, account_domain from account_names where name_text is not null) as distinct_names

),

document_grams as (

    select documents.document_id, substr(words.padded, positions.position, 3) as gram
    from documents
    cross join lateral (
        select ' ' || word || ' ' as padded
        from regexp_split_to_table(documents.name_text, '\s+') as word
        where word <> ''
    ) as words
    cross join lateral generate_series(1, greatest(length(words.padded) - 2, 1)) as positions(position)

),

query_texts as (

    select distinct query_text from queries where query_text is not null

),

corpus_grams as (

    select 'd' || document_id as corpus_id, gram from document_grams
    union all
    select 'q' || query_grams.query_text, query_grams.gram
    from (
        select query_texts.query_text, substr(words.padded, positions.position, 3) as gram
        from query_texts
        cross join lateral (
            select ' ' || word || ' ' as padded
            from regexp_split_to_table(query_texts.query_text, '\s+') as word
            where word <> ''
        ) as words
        cross join lateral generate_series(1, greatest(length(words.padded) - 2, 1)) as positions(position)
    ) as query_grams

),

idf as (

    select
        gram,
        ln((1.0 + (select count(*) from documents) + (select count(*) from query_texts))
           / (1.0 + count(distinct corpus_id))) + 1.0 as idf
    from corpus_grams
    group by gram

),

document_weights as (

    select document_grams.document_id, document_grams.gram, count(*) * min(idf.idf) as weight
    from document_grams
    inner join idf on document_grams.gram = idf.gram
    group by document_grams.document_id, document_grams.gram

),

document_vectors as (

    select document_id, gram, weight / sqrt(sum(weight * weight) over (partition by document_id)) as value
    from document_weights

),

query_grams as (

    select fuzzy_queries.query_text, substr(words.padded, positions.position, 3) as gram
    from fuzzy_queries
    cross join lateral (
        select ' ' || word || ' ' as padded
        from regexp_split_to_table(fuzzy_queries.query_text, '\s+') as word
        where word <> ''
    ) as words
    cross join lateral generate_series(1, greatest(length(words.padded) - 2, 1)) as positions(position)

),

query_weights as (

    select query_grams.query_text, query_grams.gram, count(*) * min(idf.idf) as weight
    from query_grams
    inner join idf on query_grams.gram = idf.gram
    group by query_grams.query_text, query_grams.gram

),

query_vectors as (

    select query_text, gram, weight / sqrt(sum(weight * weight) over (partition by query_text)) as value
    from query_weights

),

similarities as (

    select
        query_vectors.query_text,
        documents.account_domain,
        max(similarity) as similarity
    from (
        select query_vectors.query_text, document_vectors.document_id,
               sum(query_vectors.value * document_vectors.value) as similarity
        from query_vectors
        inner join document_vectors on query_vectors.gram = document_vectors.gram
        group by query_vectors.query_text, document_vectors.document_id
    ) as query_vectors
    inner join documents on query_vectors.document_id = documents.document_id
    group by query_vectors.query_text, documents.account_domain

),

ranked as (

    select
        query_text,
        account_domain,
        similarity,
        lead(similarity) over (partition by query_text order by similarity desc, account_domain) as runner_up_similarity,
        row_number() over (partition by query_text order by similarity desc, account_domain) as rank
    from similarities

),

best_fuzzy as (

    select query_text, account_domain, similarity, coalesce(runner_up_similarity, 0) as runner_up_similarity
    from ranked
    where rank = 1

),

final as (

    select
        queries.company_text,
        queries.query_text,
        case
            when exact_matches.count_domains = 1 then 'exact_key'
            when best_fuzzy.account_domain is not null then 'tfidf'
        end as match_method,
        case
            when exact_matches.count_domains = 1 then exact_matches.account_domain
            else best_fuzzy.account_domain
        end as account_domain,
        case
            when exact_matches.count_domains = 1 then 1.0
            else round(cast(best_fuzzy.similarity as numeric), 6)
        end as similarity,
        case when exact_matches.count_domains = 1 then null
            else round(cast(best_fuzzy.runner_up_similarity as numeric), 6) end as runner_up_similarity,
        coalesce(
            exact_matches.count_domains = 1
            or (best_fuzzy.similarity >= {{ threshold }}
                and best_fuzzy.similarity - best_fuzzy.runner_up_similarity >= {{ margin }}),
            false
        ) as is_accepted
    from queries
    left join exact_matches on queries.company_text = exact_matches.company_text
    left join best_fuzzy on queries.query_text = best_fuzzy.query_text

)

select * from final
