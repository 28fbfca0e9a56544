-- Payments: subscriptions, transactions, invoices and saved payment methods.
-- Money is amount_minor (bigint, minor units) plus a three-letter currency.

-- name: get_active_subscription(user_id)^
-- record_class: Subscription
-- The user's trialing or active subscription, the newest if several.
select id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
       canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at
  from payments.subscriptions
 where user_id = :user_id
   and status in ('TRIALING', 'ACTIVE')
 order by created_at desc, id desc
 limit 1;
