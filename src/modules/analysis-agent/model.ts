import { t } from "elysia";
import { Closed } from "@/lib/schema";

export const ChatBody = Closed(
  {
    message: t.String({ minLength: 1, maxLength: 4000, description: "1–4,000 characters after trimming" }),
  },
  { title: "ChatTurn", examples: [{ message: "Add a filter that keeps only the Kanto region." }] },
);
