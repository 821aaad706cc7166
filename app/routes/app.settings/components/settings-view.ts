import type { SerializeFrom } from "@remix-run/node";
import type { SettingsPageData } from "../view-model.server";

/** The loader's data as the page receives it (dates as strings). */
export type SettingsView = SerializeFrom<SettingsPageData>;
