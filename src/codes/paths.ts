/** The portal addresses of the codes feature, for its own routes and for the pages that link to them. */
export const codesPath = (slug: string) => `/incidents/${slug}/codes`;
