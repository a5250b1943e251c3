variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region of every account's data lake."
}

variable "endpoint" {
  type        = string
  default     = null
  description = "One endpoint URL for every AWS service (a local emulator); null for real AWS."
}

variable "governance_account_id" {
  type        = string
  default     = "111111111111"
  description = "The governance account: LF-tag ontology, lake settings, guardrails, tag-based grants."
}

variable "commerce_account_id" {
  type        = string
  default     = "444455556666"
  description = "The Commerce domain's account (producer of orders and order_items)."
}

variable "finance_account_id" {
  type        = string
  default     = "777788889999"
  description = "The Finance domain's account (consumer of orders)."
}

variable "domain_ou_id" {
  type        = string
  description = "The Organizations OU holding the domain accounts (ou-xxxx-xxxxxxxx); the guardrail is attached to it."
}
