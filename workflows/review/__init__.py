"""Reviewing beyond one person's click: quorums of approvers."""
