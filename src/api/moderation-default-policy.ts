import type { CreatePolicyRequest } from "./moderation.ts";

/**
 * The built-in `default` moderation policy: categories of concept prompts written for real CLIP models.
 *
 * **Uncalibrated until calibrated for the served model.** Its thresholds are a starting point for OpenAI's
 * ViT-B/32 and close relatives (B/16, LAION-trained B/32) only; any other model — the embedded tiny model above all,
 * which has never seen a photo — gives similarities on its own scale, and there these thresholds mean nothing. To rely
 * on it, copy its categories into a policy of your own, add labelled examples of your traffic and calibrate.
 *
 * How the concepts were chosen:
 * - CLIP learned from alt-text, so each concept is a short caption of what a photo *shows* ("a photo of a gun",
 *   "a bloody wound"), not a rule ("no weapons"): negations and abstractions ("inappropriate", "unsafe") embed
 *   poorly. Several phrasings per category, because a category scores its best-matching concept: one narrow caption
 *   misses the rest of the category, and each extra one is another chance of a false positive, hence 5–9.
 * - Descriptive and neutral: no slurs, hate symbols named by what they look like. Nothing about minors: CLIP must not
 *   be anyone's child-safety filter (use hash matching and a reporting service for that).
 * - The categories are the ones most providers moderate (sexual content, violence and gore, weapons, drugs, self-harm,
 *   hate symbols), plus `suggestive` (swimwear, lingerie — Google's "racy", AWS's "suggestive"), which also gives those
 *   images somewhere to go other than `sexual`. An app that allows them should read `categories.suggestive` rather
 *   than `flagged`.
 *
 * Known weak spots (each a false positive or negative CLIP is known for; add them as examples when calibrating):
 * - sexual / suggestive: beachwear, breastfeeding, classical nude paintings and statues, medical photos, skin-coloured
 *   close-ups; CLIP cannot tell an adult from a minor.
 * - violence: surgery and medical photos, stage make-up and Halloween costumes, red paint or ketchup, war history,
 *   video-game screenshots, meat in a butcher's shop.
 * - weapons: toy and water pistols, airsoft, props, kitchen and pocket knives, hunting scenes, police and soldiers on
 *   duty, power drills (a pistol-like silhouette).
 * - drugs: prescription medicine, flour, sugar or salt, tobacco and herbs, hookahs, vaccination and insulin syringes.
 * - self-harm: scars from surgery or accidents, tattoos, rope and climbing gear; context (recovery, awareness posts)
 *   is invisible to CLIP.
 * - hate symbols: the swastika is also a Hindu, Buddhist and Jain symbol seen on temples; history books and
 *   documentaries show the same flags; small or partial symbols (a tattoo, a patch) are often missed.
 * - Texts: the thresholds are for images. Text-to-text similarities in CLIP run on a much higher scale than
 *   image-to-text ones, so texts need a policy calibrated on text examples.
 */

/**
 * Flag at this raw similarity (the best cosine between the image and a category's concepts) — a placeholder.
 *
 * Why 0.26: for OpenAI's ViT-B/32, an image and a caption that matches it score about 0.25–0.32 in cosine, unrelated
 * pairs about 0.10–0.20 (LAION kept an English image–text pair as matching at ≥ 0.28 with this model; LAION-400M used
 * 0.3). A category scores its *best* concept, so an unrelated image's score is the highest of 5–9 unrelated cosines
 * and sits nearer 0.20–0.23; 0.26 lies between that floor and a clear match, a little above the 0.25 the API gives a
 * category created without a threshold. It is one value for every category on purpose: without labelled examples
 * there is no basis for setting them apart, and calibration replaces each with a measured one.
 */
export const UNCALIBRATED_THRESHOLD = 0.26;

export const DEFAULT_POLICY_ID = "default";

type DefaultCategory = Required<CreatePolicyRequest["categories"][number]>;

const category = (name: string, concepts: string[]): DefaultCategory => ({
  name,
  concepts,
  threshold: UNCALIBRATED_THRESHOLD,
});

export const DEFAULT_POLICY: { name: string; categories: DefaultCategory[] } = {
  name: "default",
  categories: [
    category("sexual", [
      "a photo of a naked person",
      "a nude body",
      "exposed genitals",
      "bare breasts",
      "people having sex",
      "a sexually explicit photo",
      "a pornographic image",
      "explicit adult content",
    ]),
    category("suggestive", [
      "a person in lingerie",
      "a person in underwear posing seductively",
      "a woman in a revealing bikini",
      "a man in tight swim briefs",
      "a provocative pose showing a lot of skin",
      "a see-through outfit",
    ]),
    category("violence", [
      "graphic violence with blood",
      "a bloody wound",
      "a dead body",
      "a corpse covered in blood",
      "gore and mutilated flesh",
      "a person being beaten",
      "a person being shot",
      "people fighting violently",
      "a crime scene with blood on the floor",
    ]),
    category("weapons", [
      "a photo of a gun",
      "a handgun",
      "a rifle",
      "an assault rifle",
      "a person holding a gun",
      "a person pointing a gun at the camera",
      "a combat knife",
      "ammunition and bullets",
      "a grenade",
    ]),
    category("drugs", [
      "a photo of illegal drugs",
      "lines of white powder drugs on a table",
      "a person injecting drugs with a syringe",
      "marijuana buds",
      "a person smoking a joint",
      "a glass pipe for smoking drugs",
      "a bong",
      "drug paraphernalia",
      "small plastic bags of drugs",
    ]),
    category("self-harm", [
      "self-harm cuts on a wrist",
      "a person cutting their arm with a blade",
      "self-harm scars on an arm",
      "a bleeding wrist",
      "a noose hanging from the ceiling",
      "a person about to jump from a bridge",
      "a handful of pills for an overdose",
    ]),
    category("hate-symbols", [
      "a swastika flag",
      "a swastika symbol",
      "a Nazi flag at a rally",
      "a group giving a Nazi salute",
      "a burning cross",
      "people in white hooded robes and pointed hoods",
      "Nazi SS insignia",
      "a white supremacist rally with torches",
    ]),
  ],
};
