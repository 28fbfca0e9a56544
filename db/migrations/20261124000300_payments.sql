-- migrate:up

create schema payments;
comment on schema payments is 'Subscriptions, transactions, invoices and saved payment methods. Owned by the payments service.';

create type payments."SubscriptionPlan" as enum ('FREE', 'PRO', 'ENTERPRISE');
create type payments."SubscriptionStatus" as enum ('TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED', 'EXPIRED');
create type payments."TransactionStatus" as enum ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED');
create type payments."InvoiceStatus" as enum ('DRAFT', 'OPEN', 'PAID', 'VOID', 'UNCOLLECTIBLE');
create type payments."PaymentMethodType" as enum ('CARD', 'UPI', 'BANK_ACCOUNT', 'WALLET');
comment on type payments."SubscriptionPlan" is 'The plan a subscription is on.';
comment on type payments."SubscriptionStatus" is 'Billing state of a subscription; TRIALING and ACTIVE grant access.';
comment on type payments."TransactionStatus" is 'Outcome of a charge at the payment provider.';
comment on type payments."InvoiceStatus" is 'Lifecycle of an invoice: DRAFT, OPEN (issued), then PAID, VOID or UNCOLLECTIBLE.';
comment on type payments."PaymentMethodType" is 'The kind of a saved payment method.';

-- Each schema owns its own copy so a service never needs usage on another schema.
create function payments.set_updated_at() returns trigger
language plpgsql as $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;
comment on function payments.set_updated_at() is 'Trigger function: keeps updated_at current on every update.';

create table payments.subscriptions (
  id                       uuid primary key default gen_random_uuid(),
  user_id                  uuid not null,
  plan                     payments."SubscriptionPlan" not null,
  status                   payments."SubscriptionStatus" not null,
  current_period_start     timestamptz,
  current_period_end       timestamptz,
  cancel_at_period_end     boolean not null default false,
  canceled_at              timestamptz,
  trial_ends_at            timestamptz,
  provider                 text,
  provider_subscription_id text,
  created_at               timestamptz not null default now(),
  updated_at               timestamptz not null default now(),
  constraint subscriptions_provider_subscription_id_key unique (provider_subscription_id),
  constraint subscriptions_period_check check (current_period_end > current_period_start),
  constraint subscriptions_provider_check check (provider <> '')
);
create index subscriptions_user_id_created_at_idx on payments.subscriptions (user_id, created_at desc);
create index subscriptions_active_idx on payments.subscriptions (user_id) where status in ('TRIALING', 'ACTIVE');
create trigger subscriptions_set_updated_at before update on payments.subscriptions
  for each row execute function payments.set_updated_at();
comment on table payments.subscriptions is 'A user''s plan and its billing state. Active means status TRIALING or ACTIVE (index subscriptions_active_idx).';
comment on column payments.subscriptions.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column payments.subscriptions.current_period_start is 'Start of the paid-for period; null for plans that are not billed.';
comment on column payments.subscriptions.current_period_end is 'End of the paid-for period; the next renewal or expiry happens then.';
comment on column payments.subscriptions.cancel_at_period_end is 'True when the user cancelled but keeps access until current_period_end.';
comment on column payments.subscriptions.canceled_at is 'When the cancellation was requested.';
comment on column payments.subscriptions.trial_ends_at is 'End of the free trial, when status is TRIALING.';
comment on column payments.subscriptions.provider is 'Payment service provider, e.g. stripe or razorpay; null for subscriptions it does not bill.';
comment on column payments.subscriptions.provider_subscription_id is 'The subscription''s id at the provider; unique.';

create table payments.transactions (
  id                  uuid primary key default gen_random_uuid(),
  user_id             uuid not null,
  subscription_id     uuid references payments.subscriptions (id) on delete set null,
  amount_minor        bigint not null,
  currency            char(3) not null,
  status              payments."TransactionStatus" not null,
  provider            text,
  provider_payment_id text not null,
  description         text,
  failure_reason      text,
  refunded_at         timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  constraint transactions_provider_payment_id_key unique (provider_payment_id),
  constraint transactions_amount_minor_check check (amount_minor >= 0),
  constraint transactions_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint transactions_provider_check check (provider <> ''),
  constraint transactions_provider_payment_id_check check (provider_payment_id <> '')
);
create index transactions_user_id_created_at_idx on payments.transactions (user_id, created_at desc);
create index transactions_subscription_id_idx on payments.transactions (subscription_id);
create trigger transactions_set_updated_at before update on payments.transactions
  for each row execute function payments.set_updated_at();
comment on table payments.transactions is 'Charges and their outcome; kept as financial records (never cascade-deleted).';
comment on column payments.transactions.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column payments.transactions.subscription_id is 'The subscription charged for; null for one-off payments.';
comment on column payments.transactions.amount_minor is 'Amount in minor units of currency (cents, paise), never negative.';
comment on column payments.transactions.currency is 'ISO 4217 code, three upper-case letters.';
comment on column payments.transactions.provider is 'Payment service provider, e.g. stripe or razorpay.';
comment on column payments.transactions.provider_payment_id is 'The payment''s id at the provider; unique, so a replayed webhook finds the existing row.';
comment on column payments.transactions.failure_reason is 'Provider''s reason for a FAILED charge.';
comment on column payments.transactions.refunded_at is 'When the charge was refunded (status REFUNDED).';

create table payments.invoices (
  id              uuid primary key default gen_random_uuid(),
  user_id         uuid not null,
  subscription_id uuid references payments.subscriptions (id) on delete set null,
  transaction_id  uuid references payments.transactions (id) on delete set null,
  number          text not null,
  amount_minor    bigint not null,
  currency        char(3) not null,
  status          payments."InvoiceStatus" not null default 'DRAFT',
  line_items      jsonb not null default '[]',
  issued_at       timestamptz,
  due_at          timestamptz,
  paid_at         timestamptz,
  voided_at       timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  constraint invoices_number_key unique (number),
  constraint invoices_number_check check (number <> ''),
  constraint invoices_amount_minor_check check (amount_minor >= 0),
  constraint invoices_currency_check check (currency ~ '^[A-Z]{3}$'),
  constraint invoices_line_items_check check (jsonb_typeof(line_items) = 'array')
);
create index invoices_user_id_created_at_idx on payments.invoices (user_id, created_at desc);
create index invoices_subscription_id_idx on payments.invoices (subscription_id);
create index invoices_transaction_id_idx on payments.invoices (transaction_id);
create trigger invoices_set_updated_at before update on payments.invoices
  for each row execute function payments.set_updated_at();
comment on table payments.invoices is 'Invoices issued to users; kept as financial records (never cascade-deleted).';
comment on column payments.invoices.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column payments.invoices.transaction_id is 'The charge that paid the invoice; null while unpaid.';
comment on column payments.invoices.number is 'Human-facing invoice number, e.g. CZ-2026-000123; unique.';
comment on column payments.invoices.amount_minor is 'Total in minor units of currency, never negative.';
comment on column payments.invoices.currency is 'ISO 4217 code, three upper-case letters.';
comment on column payments.invoices.line_items is 'JSON array of lines, e.g. [{"description": ..., "amount_minor": ..., "quantity": ...}].';
comment on column payments.invoices.issued_at is 'When the invoice left DRAFT.';
comment on column payments.invoices.due_at is 'Payment deadline.';

create table payments.payment_methods (
  id                 uuid primary key default gen_random_uuid(),
  user_id            uuid not null,
  type               payments."PaymentMethodType" not null,
  provider           text,
  provider_method_id text not null,
  brand              text,
  last4              text,
  exp_month          integer,
  exp_year           integer,
  is_default         boolean not null default false,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  constraint payment_methods_provider_method_id_key unique (provider_method_id),
  constraint payment_methods_provider_check check (provider <> ''),
  constraint payment_methods_provider_method_id_check check (provider_method_id <> ''),
  constraint payment_methods_last4_check check (last4 ~ '^[0-9]{4}$'),
  constraint payment_methods_exp_month_check check (exp_month between 1 and 12),
  constraint payment_methods_exp_year_check check (exp_year between 2000 and 2200)
);
create index payment_methods_user_id_idx on payments.payment_methods (user_id);
create unique index payment_methods_one_default_per_user on payments.payment_methods (user_id) where is_default;
create trigger payment_methods_set_updated_at before update on payments.payment_methods
  for each row execute function payments.set_updated_at();
comment on table payments.payment_methods is 'Payment methods saved at the provider; at most one default per user (index payment_methods_one_default_per_user).';
comment on column payments.payment_methods.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column payments.payment_methods.provider is 'Payment service provider holding the method, e.g. stripe or razorpay.';
comment on column payments.payment_methods.provider_method_id is 'The method''s id (token) at the provider; unique. Card numbers are never stored.';
comment on column payments.payment_methods.brand is 'Card network or wallet name for display, e.g. visa.';
comment on column payments.payment_methods.last4 is 'Last four digits of a card or account, for display.';
comment on column payments.payment_methods.exp_month is 'Card expiry month, 1 to 12.';
comment on column payments.payment_methods.exp_year is 'Card expiry year, four digits.';

-- Roles are cluster-wide: another database on the server may have created it already.
do $$
begin
  if not exists (select from pg_roles where rolname = 'codezest_payments') then
    create role codezest_payments nologin;
  end if;
exception when duplicate_object or unique_violation then
  null;  -- created concurrently by a migration in another database
end
$$;

grant usage on schema payments to codezest_payments;
grant select, insert, update, delete on all tables in schema payments to codezest_payments;
grant usage on all sequences in schema payments to codezest_payments;
grant usage on type payments."SubscriptionPlan", payments."SubscriptionStatus", payments."TransactionStatus",
  payments."InvoiceStatus", payments."PaymentMethodType" to codezest_payments;
alter default privileges in schema payments grant select, insert, update, delete on tables to codezest_payments;
alter default privileges in schema payments grant usage on sequences to codezest_payments;
alter default privileges in schema payments grant usage on types to codezest_payments;

-- migrate:down

alter default privileges in schema payments revoke all on tables from codezest_payments;
alter default privileges in schema payments revoke all on sequences from codezest_payments;
alter default privileges in schema payments revoke all on types from codezest_payments;
revoke all on all tables in schema payments from codezest_payments;
revoke all on all sequences in schema payments from codezest_payments;
revoke all on type payments."SubscriptionPlan", payments."SubscriptionStatus", payments."TransactionStatus",
  payments."InvoiceStatus", payments."PaymentMethodType" from codezest_payments;
revoke all on schema payments from codezest_payments;

drop schema payments cascade;

-- Another database on the same server may still grant to the role: keep it then.
do $$
begin
  drop role if exists codezest_payments;
exception when dependent_objects_still_exist then
  raise notice 'role codezest_payments kept: still used in another database';
end
$$;
