"""The review loop: handoffs, claims, decisions (alone or by a quorum of approvers), approvals
bound to a digest, batch review, acts."""
