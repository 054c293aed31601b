import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const AnnouncementType = t.Union(
  [
    t.Literal("INFO"),
    t.Literal("WARNING"),
    t.Literal("MAINTENANCE"),
    t.Literal("RELEASE"),
    t.Literal("URGENT"),
  ],
  { description: "AnnouncementType" },
);
const SystemRole = t.Union([t.Literal("system_admin"), t.Literal("user")]);

export const Announcement = t.Object(
  {
    id: Uuid,
    title: t.String(),
    content: t.String(),
    announcementType: AnnouncementType,
    priority: Int({ minimum: 1, maximum: 10 }),
    startAt: Ts,
    endAt: t.Union([Ts, t.Null()]),
    isActive: t.Boolean(),
    targetRoles: t.Union([t.Array(SystemRole), t.Null()]),
    notify: t.Boolean(),
    notifiedAt: t.Union([Ts, t.Null()]),
    createdBy: t.Union([UserRef, t.Null()]),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "Announcement", description: "A system announcement (api.md §2.12.6)" },
);
export type Announcement = typeof Announcement.static;

export const CurrentAnnouncement = t.Object(
  {
    id: Uuid,
    title: t.String(),
    content: t.String(),
    announcementType: AnnouncementType,
    priority: Int({ minimum: 1, maximum: 10 }),
    startAt: Ts,
    endAt: t.Union([Ts, t.Null()]),
  },
  { title: "CurrentAnnouncement", description: "An announcement shown to signed-in users" },
);
export type CurrentAnnouncement = typeof CurrentAnnouncement.static;

const fields = {
  title: t.String({ minLength: 1, maxLength: 200 }),
  content: t.String({ minLength: 1, maxLength: 20000 }),
  announcementType: AnnouncementType,
  priority: t.Optional(Int({ minimum: 1, maximum: 10, description: "1 = highest; default 5" })),
  startAt: t.Optional(t.String({ format: "date-time", description: "Default: now" })),
  endAt: t.Optional(t.Union([t.String({ format: "date-time" }), t.Null()])),
  targetRoles: t.Optional(
    t.Union([t.Array(SystemRole, { uniqueItems: true }), t.Null()], {
      description: "System roles that see it; empty or null = everyone",
    }),
  ),
  isActive: t.Optional(t.Boolean()),
  notify: t.Optional(
    t.Boolean({ description: "Also send an `announcement` notification once it is active" }),
  ),
};

export const AnnouncementCreate = Closed(fields, { title: "AnnouncementCreate" });
export type AnnouncementCreate = typeof AnnouncementCreate.static;

export const AnnouncementPatch = Closed(
  {
    ...fields,
    title: t.Optional(fields.title),
    content: t.Optional(fields.content),
    announcementType: t.Optional(fields.announcementType),
  },
  { title: "AnnouncementPatch" },
);
export type AnnouncementPatch = typeof AnnouncementPatch.static;

export const AnnouncementListQuery = Closed({
  ...PageQuery,
  isActive: t.Optional(
    t.Boolean({ description: "Only active (true) or only inactive (false) announcements" }),
  ),
  announcementType: t.Optional(
    t.Union(AnnouncementType.anyOf, { description: "Only announcements of this type" }),
  ),
  current: t.Optional(t.Boolean({ description: "Only those shown now (active, started, not ended)" })),
});
export type AnnouncementListQuery = typeof AnnouncementListQuery.static;

export const CurrentListQuery = Closed({ ...PageQuery });

export const AnnouncementParams = Closed({ announcementId: IdOf("Announcement") });
