// Corpus photos whose product mask (../shared/corpus/real-photos/masks, made by a segmentation network) does not match
// the product. The stand-in composes its "faithful" edit from that mask, so for these photos the faithful edit shows
// what the mask shows: backdrop pasted onto the product, or a part of the product cut away. No merchant wants such an
// image published, so the calibration expects these edits held, and does not count them as faithful.
// Chosen by looking at every photo's faithful edit beside its original (bench/real-photos.ts prints the list it used);
// photos where the mask misses only a few px of the outline are not listed.

/** Corpus id -> what the faithful edit of that photo shows. */
export const MASK_FLAWS: Readonly<Record<string, string>> = {
  "dress-3fc1c8b5-a541-4e74-9778-f1af27465f5e": "pieces of the wall pasted along the dress's left side, its right side cut away",
  "dress-535730d9-abf0-428f-8f2f-b0c10591b657": "only the red stripes: the dress's white stripes cut away",
  "longsleeve-02c1ab85-da02-4fbd-a8b8-a115de4e0c53": "a sleeve cut through, with holes where the floor showed",
  "longsleeve-1823c84a-dc6f-4edc-ae75-b54303132369": "a piece of the pink bedding pasted under the cardigan",
  "longsleeve-1ad60e4e-c2ea-4e4c-9e86-48cf27674802": "pieces of the grey floor pasted along the sweater's sides",
  "longsleeve-21183cf1-c20b-4a86-8e86-ab5ca9b26c06": "the patterned bedding pasted onto a sleeve",
  "longsleeve-29e42d8d-ea01-40d3-b82b-002c4343ed93": "the door's wood pasted between hanger and collar, dark scraps under the hem",
  "longsleeve-3131d235-b604-4170-b078-bc1d86f26943": "a ragged outline with pieces of the blanket on the collar and hem",
  "outwear-5ecf5607-c36b-4185-9981-652804e04c8d": "a sleeve cut into ragged pieces",
  "pants-09cd286c-0fab-45b9-9152-322f32275ef7": "only the side stripes and scraps of the trousers",
  "pants-0e3d71f8-7677-4cd4-ba24-4788c3890ac1": "a band of the wooden floor pasted under the jeans",
  "pants-18a573de-219f-44de-8dc9-0a64422e4f99": "one trouser leg missing",
  "pants-29ea96da-0051-47ba-adea-76ff6c5b817c": "the trouser leg folded back on the right cut away",
  "shirt-028f8beb-150d-41a9-bb4e-3de383c7856e": "a piece of the mirror and floor pasted under the shirt's hem",
  "shirt-37de7453-8870-42c3-a9b2-ec28a07ad972": "a piece of the brown backdrop pasted at the hem",
  "shoes-08215318-faff-4037-bee9-5bceb0af7747": "pieces of the wooden floor pasted onto the soles",
  "shorts-3179d873-a710-41a9-8773-98f01184d016": "the zebra-print rug pasted under the shorts",
  "t-shirt-07384634-05b2-4eae-8251-794855910d46": "a flower of the bedding pasted on a shoulder",
  "t-shirt-09ffb7d6-3045-4d5a-8f4b-f0e4738fa960": "only the owl print, without the top it is printed on",
  "t-shirt-1a3b3d48-e500-44e4-9fb3-dadde06ea48b": "clothes of the rack behind pasted beside the t-shirt",
};
