-- Store credit pays for an order: the wallet is a payment method and a payment's provider.
ALTER TYPE "PaymentMethod" ADD VALUE 'WALLET';
ALTER TYPE "PaymentProvider" ADD VALUE 'WALLET';
