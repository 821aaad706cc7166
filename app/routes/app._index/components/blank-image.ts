// EmptyState wants an illustration; the app ships none, and admin must not load one from elsewhere.
export const BLANK_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";
