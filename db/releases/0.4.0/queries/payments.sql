-- Payments: subscriptions, transactions, invoices and saved payment methods.
-- Money is amount_minor (bigint, minor units) plus a three-letter currency;
-- currencies are upper-cased here, so a provider's 'usd' is stored as 'USD'.
-- Lists that grow page by keyset: pass the last id of the previous page as before_id.
--
-- Subscriptions: TRIALING and ACTIVE grant access; PAST_DUE is a failed renewal
-- still being retried; CANCELED and EXPIRED are final (resubscribing creates a
-- new subscription), so the lifecycle queries leave those alone.
-- Transactions: one row per charge at the provider, never deleted.
-- Invoices: DRAFT, then OPEN (issued), then PAID, VOID or UNCOLLECTIBLE.
-- Payment methods: at most one default per user, enforced by the partial unique
-- index payment_methods_one_default_per_user. Deleting the default leaves the
-- user without one (no silent promotion of another card): the service asks the
-- user to pick one and calls set_default_payment_method.

-- name: create_subscription(user_id, plan, status)^
-- record_class: Subscription
-- Start a subscription that no provider bills (e.g. FREE, or a manual grant).
insert into payments.subscriptions (user_id, plan, status)
values (:user_id, :plan, :status)
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: create_provider_subscription(user_id, plan, status, provider, provider_subscription_id, current_period_start, current_period_end, trial_ends_at)^
-- record_class: Subscription
-- Record a subscription billed by a provider. Idempotent on
-- provider_subscription_id: a replayed webhook returns the existing row.
-- optional: current_period_start, current_period_end, trial_ends_at
insert into payments.subscriptions (user_id, plan, status, provider, provider_subscription_id,
                                    current_period_start, current_period_end, trial_ends_at)
values (:user_id, :plan, :status, :provider, :provider_subscription_id,
        :current_period_start, :current_period_end, :trial_ends_at)
    on conflict (provider_subscription_id) do update
   set provider_subscription_id = excluded.provider_subscription_id
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: get_subscription(id)^
-- record_class: Subscription
-- A subscription by id, whatever its status.
select id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
       canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at
  from payments.subscriptions
 where id = :id;

-- name: get_subscription_by_provider_id(provider_subscription_id)^
-- record_class: Subscription
-- The subscription a provider webhook is about.
select id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
       canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at
  from payments.subscriptions
 where provider_subscription_id = :provider_subscription_id;

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

-- name: list_user_subscriptions(user_id, limit, after_id)
-- record_class: Subscription
-- Every subscription of a user, newest first (billing history; a handful per user).
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
       canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at
  from payments.subscriptions
 where user_id = :user_id
   and (:after_id::uuid is null
        or (created_at, id) < (select k.created_at, k.id from payments.subscriptions k where k.id = :after_id::uuid))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: update_subscription_status(id, status)^
-- record_class: Subscription
-- Move a live subscription to status (e.g. PAST_DUE from a provider webhook);
-- CANCELED stamps canceled_at. None when it is unknown or already CANCELED or EXPIRED.
update payments.subscriptions
   set status = :status::payments."SubscriptionStatus",
       canceled_at = case when :status::payments."SubscriptionStatus" = 'CANCELED'
                          then coalesce(canceled_at, now())
                          else canceled_at
                     end
 where id = :id
   and status not in ('CANCELED', 'EXPIRED')
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: change_subscription_plan(id, plan)^
-- record_class: Subscription
-- Up- or downgrade a live subscription; None when it is unknown or ended.
update payments.subscriptions
   set plan = :plan
 where id = :id
   and status not in ('CANCELED', 'EXPIRED')
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: renew_subscription(id, current_period_start, current_period_end)^
-- record_class: Subscription
-- A paid renewal: set the new period and status ACTIVE (also ends a trial or
-- PAST_DUE). Replaying it sets the same values. None when the subscription is
-- unknown, ended or set to cancel at period end. Raises ConstraintViolation
-- when the period ends before it starts.
update payments.subscriptions
   set status = 'ACTIVE',
       current_period_start = :current_period_start,
       current_period_end = :current_period_end
 where id = :id
   and status in ('TRIALING', 'ACTIVE', 'PAST_DUE')
   and not cancel_at_period_end
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: cancel_subscription(id)^
-- record_class: Subscription
-- Cancel now: status CANCELED, access ends. None when it is unknown or already ended.
update payments.subscriptions
   set status = 'CANCELED',
       canceled_at = coalesce(canceled_at, now()),
       cancel_at_period_end = false
 where id = :id
   and status not in ('CANCELED', 'EXPIRED')
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: cancel_subscription_at_period_end(id)^
-- record_class: Subscription
-- Cancel at the end of the paid period: access continues until then, when
-- expire_subscriptions marks it CANCELED. None when it is unknown or ended.
update payments.subscriptions
   set cancel_at_period_end = true,
       canceled_at = coalesce(canceled_at, now())
 where id = :id
   and status not in ('CANCELED', 'EXPIRED')
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: resume_subscription(id)^
-- record_class: Subscription
-- Undo cancel_subscription_at_period_end before the period ends. None when it
-- is unknown, ended, or was not set to cancel.
update payments.subscriptions
   set cancel_at_period_end = false,
       canceled_at = null
 where id = :id
   and cancel_at_period_end
   and status not in ('CANCELED', 'EXPIRED')
returning id, user_id, plan, status, current_period_start, current_period_end, cancel_at_period_end,
          canceled_at, trial_ends_at, provider, provider_subscription_id, created_at, updated_at;

-- name: expire_subscriptions(ended_before, batch_size)!
-- Job: end the live subscriptions whose trial (when TRIALING) or paid period
-- ended before ended_before (pass now() minus a grace period), about
-- batch_size (default 10,000) at a time, earliest ends first: CANCELED when
-- set to cancel at period end, EXPIRED otherwise. Returns how many; call it
-- until it returns 0.
-- optional: batch_size
update payments.subscriptions
   set status = case when cancel_at_period_end
                     then 'CANCELED'::payments."SubscriptionStatus"
                     else 'EXPIRED'::payments."SubscriptionStatus"
                end
 where status in ('TRIALING', 'ACTIVE', 'PAST_DUE')
   and coalesce(case when status = 'TRIALING' then trial_ends_at end, current_period_end)
       < :ended_before::timestamptz
   and coalesce(case when status = 'TRIALING' then trial_ends_at end, current_period_end)
       <= coalesce((select coalesce(case when status = 'TRIALING' then trial_ends_at end,
                                    current_period_end)
                      from payments.subscriptions
                     where status in ('TRIALING', 'ACTIVE', 'PAST_DUE')
                       and coalesce(case when status = 'TRIALING' then trial_ends_at end,
                                    current_period_end) < :ended_before::timestamptz
                     order by 1
                    offset coalesce(:batch_size::integer, 10000) - 1
                     limit 1),
                   'infinity');

-- name: record_transaction(user_id, subscription_id, amount_minor, currency, status, provider_payment_id)^
-- record_class: Transaction
-- Record a charge from a provider webhook. Idempotent on provider_payment_id,
-- also under concurrency: a replay returns the existing row (same id, status
-- and amount) instead of a duplicate. subscription_id None is a one-off payment.
insert into payments.transactions (user_id, subscription_id, amount_minor, currency, status,
                                   provider_payment_id)
values (:user_id, :subscription_id, :amount_minor, upper(:currency), :status, :provider_payment_id)
    on conflict (provider_payment_id) do update
   set provider_payment_id = excluded.provider_payment_id
returning id, user_id, subscription_id, amount_minor, currency, status, provider,
          provider_payment_id, description, failure_reason, refunded_at, created_at, updated_at;

-- name: get_transaction(id)^
-- record_class: Transaction
-- A transaction by id.
select id, user_id, subscription_id, amount_minor, currency, status, provider,
       provider_payment_id, description, failure_reason, refunded_at, created_at, updated_at
  from payments.transactions
 where id = :id;

-- name: get_transaction_by_provider_id(provider_payment_id)^
-- record_class: Transaction
-- The transaction a provider webhook is about.
select id, user_id, subscription_id, amount_minor, currency, status, provider,
       provider_payment_id, description, failure_reason, refunded_at, created_at, updated_at
  from payments.transactions
 where provider_payment_id = :provider_payment_id;

-- name: list_user_transactions(user_id, limit, before_id)
-- record_class: Transaction
-- A user's transactions, newest first, a page at a time (keyset on before_id).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before_id
select id, user_id, subscription_id, amount_minor, currency, status, provider,
       provider_payment_id, description, failure_reason, refunded_at, created_at, updated_at
  from payments.transactions
 where user_id = :user_id
   and (created_at, id) < (coalesce((select created_at from payments.transactions where id = :before_id::uuid),
                                    case when :before_id::uuid is null then 'infinity'::timestamptz end),
                           coalesce(:before_id::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: update_transaction_status(provider_payment_id, status, failure_reason)^
-- record_class: Transaction
-- Settle a PENDING charge as SUCCEEDED or FAILED (with the provider's
-- failure_reason). Replaying the same outcome returns the row unchanged; None
-- for an unknown payment, a settled one, or another status (refunds go through
-- refund_transaction).
-- optional: failure_reason
update payments.transactions
   set status = :status::payments."TransactionStatus",
       failure_reason = coalesce(:failure_reason, failure_reason)
 where provider_payment_id = :provider_payment_id
   and :status::payments."TransactionStatus" in ('SUCCEEDED', 'FAILED')
   and status in ('PENDING', :status::payments."TransactionStatus")
returning id, user_id, subscription_id, amount_minor, currency, status, provider,
          provider_payment_id, description, failure_reason, refunded_at, created_at, updated_at;

-- name: refund_transaction(id)^
-- record_class: Transaction
-- Mark a SUCCEEDED charge REFUNDED and stamp refunded_at. None for any other
-- status (pending, failed or already refunded) or an unknown id, so a repeated
-- refund changes nothing.
update payments.transactions
   set status = 'REFUNDED',
       refunded_at = now()
 where id = :id
   and status = 'SUCCEEDED'
returning id, user_id, subscription_id, amount_minor, currency, status, provider,
          provider_payment_id, description, failure_reason, refunded_at, created_at, updated_at;

-- name: create_invoice(user_id, number, amount_minor, currency, subscription_id, line_items, due_at)^
-- record_class: Invoice
-- Create a DRAFT invoice. number is unique: AlreadyExists (invoices_number_key)
-- otherwise. line_items is a JSON array: pass psycopg.types.json.Jsonb([...]).
-- optional: subscription_id, line_items, due_at
insert into payments.invoices (user_id, subscription_id, number, amount_minor, currency, line_items,
                               due_at)
values (:user_id, :subscription_id, :number, :amount_minor, upper(:currency),
        coalesce(:line_items::jsonb, '[]'::jsonb), :due_at)
returning id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
          line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at;

-- name: get_invoice(id)^
-- record_class: Invoice
-- An invoice by id.
select id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
       line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at
  from payments.invoices
 where id = :id;

-- name: get_invoice_by_number(number)^
-- record_class: Invoice
-- An invoice by its human-facing number.
select id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
       line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at
  from payments.invoices
 where number = :number;

-- name: list_user_invoices(user_id, limit, before_id)
-- record_class: Invoice
-- A user's invoices, newest first, a page at a time (keyset on before_id).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before_id
select id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
       line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at
  from payments.invoices
 where user_id = :user_id
   and (created_at, id) < (coalesce((select created_at from payments.invoices where id = :before_id::uuid),
                                    case when :before_id::uuid is null then 'infinity'::timestamptz end),
                           coalesce(:before_id::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: issue_invoice(id)^
-- record_class: Invoice
-- Issue a DRAFT invoice: status OPEN, issued_at now. None unless it was DRAFT.
update payments.invoices
   set status = 'OPEN',
       issued_at = now()
 where id = :id
   and status = 'DRAFT'
returning id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
          line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at;

-- name: mark_invoice_paid(id, transaction_id)^
-- record_class: Invoice
-- Mark a DRAFT, OPEN or UNCOLLECTIBLE invoice PAID by transaction_id (issuing
-- it if it was a draft). None when it is unknown, PAID or VOID.
-- optional: transaction_id
update payments.invoices
   set status = 'PAID',
       paid_at = now(),
       issued_at = coalesce(issued_at, now()),
       transaction_id = coalesce(:transaction_id::uuid, transaction_id)
 where id = :id
   and status in ('DRAFT', 'OPEN', 'UNCOLLECTIBLE')
returning id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
          line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at;

-- name: mark_invoice_uncollectible(id)^
-- record_class: Invoice
-- Give up collecting an OPEN invoice; it can still be paid or voided later.
update payments.invoices
   set status = 'UNCOLLECTIBLE'
 where id = :id
   and status = 'OPEN'
returning id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
          line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at;

-- name: void_invoice(id)^
-- record_class: Invoice
-- Void an unpaid invoice: status VOID, voided_at now. None when it is unknown,
-- PAID or already VOID.
update payments.invoices
   set status = 'VOID',
       voided_at = now()
 where id = :id
   and status in ('DRAFT', 'OPEN', 'UNCOLLECTIBLE')
returning id, user_id, subscription_id, transaction_id, number, amount_minor, currency, status,
          line_items, issued_at, due_at, paid_at, voided_at, created_at, updated_at;

-- name: add_payment_method(user_id, type, provider_method_id, is_default)^
-- record_class: PaymentMethod
-- Save a payment method. With is_default the previous default is cleared in the
-- same statement, also when several defaults are added at once (the last to
-- commit is the default). A provider_method_id saved already raises
-- AlreadyExists (payment_methods_provider_method_id_key).
/* The first insert takes the arbiter path of the partial unique index: when a
   default exists it demotes that row instead of inserting (waiting for, and
   seeing, a concurrent default); the second insert then adds the new default. */
with new as (
  select gen_random_uuid() as id
), added as (
  insert into payments.payment_methods (id, user_id, type, provider_method_id, is_default)
  values ((select id from new), :user_id, :type, :provider_method_id, :is_default)
      on conflict (user_id) where is_default do update
     set is_default = false
  returning id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
            is_default, created_at, updated_at
), promoted as (
  insert into payments.payment_methods (id, user_id, type, provider_method_id, is_default)
  select new.id, :user_id, :type, :provider_method_id, true
    from new
    join added on added.id <> new.id
  returning id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
            is_default, created_at, updated_at
)
select id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
       is_default, created_at, updated_at
  from added
 where id = (select id from new)
 union all
select id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
       is_default, created_at, updated_at
  from promoted;

-- name: update_payment_method_details(id, provider, brand, last4, exp_month, exp_year)^
-- record_class: PaymentMethod
-- Store what the provider tells about a method, for display; a None argument
-- keeps the stored value. None when the method is unknown.
-- optional: provider, brand, last4, exp_month, exp_year
update payments.payment_methods
   set provider = coalesce(:provider, provider),
       brand = coalesce(:brand, brand),
       last4 = coalesce(:last4, last4),
       exp_month = coalesce(:exp_month::integer, exp_month),
       exp_year = coalesce(:exp_year::integer, exp_year)
 where id = :id
returning id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
          is_default, created_at, updated_at;

-- name: list_payment_methods(user_id, limit, after_id)
-- record_class: PaymentMethod
-- A user's saved methods, the default first, then newest first.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
       is_default, created_at, updated_at
  from payments.payment_methods
 where user_id = :user_id
   and (:after_id::uuid is null
        or (is_default, created_at, id) < (select k.is_default, k.created_at, k.id from payments.payment_methods k where k.id = :after_id::uuid))
 order by is_default desc, created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: get_default_payment_method(user_id)^
-- record_class: PaymentMethod
-- The user's default method, or None.
select id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
       is_default, created_at, updated_at
  from payments.payment_methods
 where user_id = :user_id
   and is_default;

-- name: set_default_payment_method(user_id, id)^
-- record_class: PaymentMethod
-- Make one of the user's methods the default and clear the previous default,
-- in one statement; concurrent calls serialise on the user's rows (the last to
-- commit wins). None when the method is not the user's.
/* Lock the user's rows first, in id order so concurrent calls cannot deadlock:
   the current default is then seen even when a concurrent call set it after
   this statement's snapshot. Clear the old default before setting the new one
   (unique indexes are checked row by row). */
with locked as (
  select id, is_default
    from payments.payment_methods
   where user_id = :user_id
     and exists (select from payments.payment_methods where id = :id and user_id = :user_id)
   order by id
     for update
), cleared as (
  update payments.payment_methods pm
     set is_default = false
    from locked
   where pm.id = locked.id
     and locked.is_default
     and pm.id <> :id
  returning pm.id
)
update payments.payment_methods
   set is_default = true
 where id = :id
   and user_id = :user_id
   and (select count(*) from cleared) >= 0
returning id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
          is_default, created_at, updated_at;

-- name: delete_payment_method(user_id, id)^
-- record_class: PaymentMethod
-- Remove one of the user's methods and return it (to detach it at the provider).
-- Removing the default leaves the user without a default. None when the method
-- is not the user's.
delete from payments.payment_methods
 where id = :id
   and user_id = :user_id
returning id, user_id, type, provider, provider_method_id, brand, last4, exp_month, exp_year,
          is_default, created_at, updated_at;
