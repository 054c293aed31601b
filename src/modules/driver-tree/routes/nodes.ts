import { created, noContent } from "@/http/status";
import { NoContent, Page } from "@/lib/schema";
import { requireProjectRole } from "@/plugins/project-access";
import {
  NodeCreate,
  NodeDetail,
  NodeParams,
  NodePatch,
  NodePolicyListQuery,
  Policy,
  PolicyCreate,
  PolicyParams,
  PolicyPatch,
  TreeDetailCreated,
  TreeParams,
} from "../model";
import * as nodes from "../nodes";
import * as policies from "../policies";
import { type RouteContext, routeGroup, TAGS, writer } from "./shared";

const OWN_NODE = ["NODE_NOT_FOUND", "NOT_OWNER"] as const;

/* Nodes of a tree and the policies on them. */
export function nodesRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "driver-tree-nodes")
    .post(
      "/tree/:treeId/node",
      async (r) => created(r.set, await nodes.createNode(...writer(ctx, r), r.params.treeId, r.body)),
      {
        project: requireProjectRole("member"),
        params: TreeParams,
        body: NodeCreate,
        response: { 201: TreeDetailCreated },
        detail: {
          tags: TAGS,
          operationId: "driverTree.node.create",
          "x-problem-codes": [
            "TREE_NOT_FOUND",
            "NOT_OWNER",
            "NAME_TAKEN",
            "NODE_NOT_IN_TREE",
            "OPERATOR_REQUIRED",
          ],
          summary: "Add a node, optionally as the last child of a parent (creator, moderator or manager)",
          description:
            "With parentId the node is appended to the parent's children (operator required when the parent has no relationship yet); the first node of an empty tree becomes its root. Labels are unique within a tree (409 NAME_TAKEN).",
        },
      },
    )
    .get(
      "/node/:nodeId",
      ({ access, params }) => nodes.getNode(ctx.db, access.project.id, params.nodeId, ctx.frames),
      {
        project: requireProjectRole("viewer"),
        params: NodeParams,
        response: NodeDetail,
        detail: {
          tags: TAGS,
          operationId: "driverTree.node.get",
          "x-problem-codes": ["NODE_NOT_FOUND"],
          summary: "A node with its relationship, parents, values and policies (V+)",
          description: "data holds the node's evaluated series (with policies) per period.",
        },
      },
    )
    .patch("/node/:nodeId", (r) => nodes.updateNode(...writer(ctx, r), r.params.nodeId, r.body), {
      project: requireProjectRole("member"),
      params: NodeParams,
      body: NodePatch,
      response: NodeDetail,
      detail: {
        tags: TAGS,
        operationId: "driverTree.node.update",
        "x-problem-codes": [...OWN_NODE, "NAME_TAKEN", "TREE_CYCLE", "NODE_NOT_IN_TREE", "OPERATOR_REQUIRED"],
        summary: "Change a node, its operator or its ordered children (creator, moderator or manager)",
        description:
          "childrenIdList replaces the ordered children (creating the relationship when missing; [] removes it). Children only on calculation nodes (422 VALIDATION_FAILED).",
      },
    })
    .delete(
      "/node/:nodeId",
      async (r) => {
        await nodes.deleteNode(...writer(ctx, r), r.params.nodeId);
        return noContent(r.set);
      },
      {
        project: requireProjectRole("member"),
        params: NodeParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "driverTree.node.delete",
          "x-problem-codes": [...OWN_NODE, "ROOT_NODE_PROTECTED"],
          summary: "Delete a node (creator, moderator or manager)",
          description:
            "Removes the node from its parents' children (an emptied relationship goes), its own relationship and its policies. The root cannot be deleted.",
        },
      },
    )
    .post(
      "/node/:nodeId/policy",
      async (r) => created(r.set, await policies.createPolicy(...writer(ctx, r), r.params.nodeId, r.body)),
      {
        project: requireProjectRole("member"),
        params: NodeParams,
        body: PolicyCreate,
        response: { 201: Policy },
        detail: {
          tags: TAGS,
          operationId: "driverTree.policy.create",
          "x-problem-codes": [...OWN_NODE],
          summary: "Add a policy to a node (creator, moderator or manager)",
          description:
            "percent: v × (1 + value/100); factor: v × value (> 0); absolute: v + value; from startPeriod on (every period when null). Policies on one node apply in creation order.",
        },
      },
    )
    .get(
      "/node/:nodeId/policy",
      ({ access, params, query }) =>
        policies.listNodePolicies(ctx.db, access.project.id, params.nodeId, query),
      {
        project: requireProjectRole("viewer"),
        params: NodeParams,
        query: NodePolicyListQuery,
        response: Page(Policy),
        detail: {
          tags: TAGS,
          operationId: "driverTree.policy.list",
          "x-problem-codes": ["NODE_NOT_FOUND"],
          summary: "Policies of a node, in the order they apply (V+)",
          description: "The node's policies in creation order.",
        },
      },
    )
    .patch(
      "/node/:nodeId/policy/:policyId",
      (r) => policies.updatePolicy(...writer(ctx, r), r.params.nodeId, r.params.policyId, r.body),
      {
        project: requireProjectRole("member"),
        params: PolicyParams,
        body: PolicyPatch,
        response: Policy,
        detail: {
          tags: TAGS,
          operationId: "driverTree.policy.update",
          "x-problem-codes": [...OWN_NODE, "POLICY_NOT_FOUND"],
          summary: "Change a policy (creator, moderator or manager)",
          description: "Any subset of the create fields; null clears the optional ones.",
        },
      },
    )
    .delete(
      "/node/:nodeId/policy/:policyId",
      async (r) => {
        await policies.deletePolicy(...writer(ctx, r), r.params.nodeId, r.params.policyId);
        return noContent(r.set);
      },
      {
        project: requireProjectRole("member"),
        params: PolicyParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "driverTree.policy.delete",
          "x-problem-codes": [...OWN_NODE, "POLICY_NOT_FOUND"],
          summary: "Delete a policy (creator, moderator or manager)",
          description: "Removes the policy; the tree is recalculated without it.",
        },
      },
    );
}
