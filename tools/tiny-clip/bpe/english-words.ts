/**
 * Common English words added to the BPE corpus so that labels users send (not only shapes-world captions) split
 * into sensible pieces instead of single bytes. Weighted lightly: the caption corpus dominates the merges.
 */
export const ENGLISH_WORDS = `
the of and to in is was it for on are as with his they at be this from have or by one had not but what all were
when we there can an your which their said if do will each about how up out them then she many some so these would
other into has more her two like him see time could no make than first been its who now people my made over did down
only way find use may water long little very after words called just where most know get through back much before go
good new write our used me man too any day same right look think also around another came come work three word must
because does part even place well such here take why things help put years different away again off went old number
great tell men say small every found still between name should home big give air line set own under read last never us
left end along while might next sound below saw something thought both few those always looked show large often
together asked house world going want school important until form food keep children feet land side without boy once
animal life enough took sometimes four head above kind began almost live page got earth need far hand high year
mother light parts country father let night following picture being study second eyes soon times story boys since
white days ever paper hard near sentence better best across during today others however sure means knew its try told
young miles sun ways thing whole hear example heard several change answer room sea against top turned learn point city
play toward five using himself usually money seen car morning body upon family later move face door cut done group true
leave red blue green yellow orange purple black white grey gray pink brown silver gold violet cyan magenta beige navy
circle square triangle star rectangle oval hexagon diamond heart cross shape shapes dot line stripe pattern background
photo photograph picture image drawing painting sketch rendering illustration art clip cartoon graphic icon logo
cat dog bird fish horse cow sheep pig chicken duck rabbit mouse lion tiger bear wolf fox deer elephant monkey zebra
giraffe snake frog turtle butterfly bee spider insect animal pet puppy kitten
apple banana orange grape lemon strawberry cherry pear peach tomato potato carrot bread cake pizza sandwich coffee tea
car truck bus bicycle bike motorcycle train airplane plane boat ship rocket
person man woman child baby boy girl face hand people crowd player
tree flower grass leaf forest mountain river lake beach ocean sky cloud sun moon rain snow road street bridge building
house city tower church castle
chair table bed sofa couch lamp door window clock phone computer laptop keyboard screen television book pen pencil
cup mug bottle glass plate bowl spoon fork knife bag shoe shirt hat dress ball toy kite umbrella camera guitar piano
small big large tiny huge little bright dark light blurry clean dirty old new good bad close cropped pixelated
corrupted jpeg low high resolution plastic origami embroidered tattoo sculpture rendition video game itap my the a an
`;

export const NUMBER_WORDS_EXTRA = [
  "zero one two three four five six seven eight nine ten eleven twelve twenty hundred thousand",
  "0 1 2 3 4 5 6 7 8 9 10 12 100 2024",
];
