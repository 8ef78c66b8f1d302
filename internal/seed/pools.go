package seed

import (
	"strings"
	"unicode"
)

// The word pools the generator picks from. Everything here is fixed data:
// the generator only draws indexes, so a customer costs a few PRNG calls and
// string concatenations.

// name is a pool entry with its ASCII slug (for e-mail addresses and handles).
type name struct{ s, slug string }

func names(list string) []name {
	var out []name
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s != "" {
			out = append(out, name{s, slugify(s)})
		}
	}
	return out
}

var translit = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "æ", "ae", "œ", "oe", "ø", "o", "å", "a",
	"á", "a", "à", "a", "â", "a", "ã", "a", "ą", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "ę", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "õ", "o",
	"ú", "u", "ù", "u", "û", "u",
	"ç", "c", "ć", "c", "ñ", "n", "ń", "n", "ł", "l", "ś", "s", "ź", "z", "ż", "z",
)

// slugify lower-cases s, transliterates common accents and drops everything
// but a-z and 0-9.
func slugify(s string) string {
	s = translit.Replace(strings.ToLower(s))
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phonePlan makes valid E.164 mobile numbers: a prefix (country code and
// carrier/area code) followed by digits random digits, the first of them at
// least first.
type phonePlan struct {
	prefixes []string
	digits   int
	first    byte
}

// locale is a country with its languages, time zones, names and number plan.
type locale struct {
	country  string
	weight   int
	langs    []string // main language first
	langMain int      // percent of customers speaking langs[0]; the rest split over langs[1:]
	tzs      []string
	first    []name
	last     []name
	mail     []string // free mail providers
	currency string
	phone    phonePlan
}

var (
	enFirst = names(`James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, William, Elizabeth, David, Barbara,
		Richard, Susan, Joseph, Jessica, Thomas, Sarah, Charles, Karen, Christopher, Lisa, Daniel, Nancy, Matthew, Betty,
		Anthony, Margaret, Mark, Sandra, Emily, Olivia, Emma, Noah, Liam, Sophia, Ava, Ethan, Mason, Chloe, Harper, Lucas,
		Amelia, Oliver, Grace, Jack, Harry, Charlotte, George, Isla, Megan, Ryan, Nathan, Rachel, Samuel, Hannah, Zoe, Aaron`)
	enLast = names(`Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Wilson, Anderson, Taylor, Thomas, Moore,
		Jackson, Martin, Lee, Thompson, White, Harris, Clark, Lewis, Robinson, Walker, Young, Allen, King, Wright, Scott,
		Hill, Green, Adams, Baker, Nelson, Carter, Mitchell, Roberts, Turner, Phillips, Campbell, Parker, Evans, Edwards,
		Collins, Stewart, Morris, Murphy, Cook, Rogers, O'Brien, Hughes, Patel, Kelly, Walsh, Bennett, Cooper, Ward,
		Brooks, Price, Reed, Foster, Sullivan, Russell, Fraser, MacDonald, Nguyen, Chen, Kim`)
	deFirst = names(`Lukas, Leon, Maximilian, Felix, Paul, Jonas, Finn, Elias, Noah, Ben, Anna, Lena, Lea, Hannah, Sophie,
		Marie, Laura, Julia, Katharina, Sarah, Jürgen, Uwe, Stefan, Andreas, Thomas, Sabine, Petra, Birgit, Claudia,
		Monika, Jörg, Björn, Günter, Heike, Kerstin, Tobias, Florian, Sebastian, Johanna, Franziska, Matthias, Anja`)
	deLast = names(`Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch,
		Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger, Hofmann, Hartmann, Lange,
		Schmitt, Werner, Schmitz, Krause, Meier, Lehmann, Schmid, Schulze, Maier, Köhler, Herrmann, König, Walter, Mayer,
		Huber, Kaiser, Fuchs, Peters, Lang, Scholz, Möller, Weiß, Jung, Hahn, Vogel`)
	frFirst = names(`Jean, Marie, Pierre, Camille, Louis, Léa, Hugo, Chloé, Lucas, Manon, Gabriel, Inès, Arthur, Jade, Jules,
		Louise, Nathan, Emma, Théo, Sarah, François, Hélène, Nicolas, Isabelle, Julien, Céline, Antoine, Aurélie,
		Mathieu, Élodie, Baptiste, Margaux, Clément, Amélie, Maxime, Juliette, Sébastien, Sandrine`)
	frLast = names(`Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent,
		Lefèvre, Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, Morel, Girard, André, Lefebvre, Mercier,
		Dupont, Lambert, Bonnet, François, Martinez, Legrand, Garnier, Faure, Rousseau, Blanc, Guérin, Muller, Henry,
		Roussel, Nicolas, Perrin, Morin, Mathieu, Clément, Gauthier, Dumont`)
	esFirst = names(`Alejandro, Lucía, Daniel, Sofía, Pablo, María, Hugo, Martina, Álvaro, Paula, Adrián, Valeria, David,
		Carmen, Javier, Elena, Diego, Laura, Sergio, Ana, Carlos, Isabel, Miguel, Marta, José, Cristina, Jorge, Raquel,
		Fernando, Beatriz, Luis, Patricia, Andrés, Gabriela, Ricardo, Ximena, Mateo, Valentina, Santiago, Camila`)
	esLast = names(`García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, Martín, Jiménez, Ruiz,
		Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, Gutiérrez, Navarro, Torres, Domínguez, Vázquez, Ramos,
		Gil, Ramírez, Serrano, Blanco, Molina, Morales, Suárez, Ortega, Delgado, Castro, Ortiz, Rubio, Marín, Sanz,
		Flores, Cruz, Reyes`)
	itFirst = names(`Francesco, Giulia, Alessandro, Sofia, Lorenzo, Aurora, Leonardo, Alice, Mattia, Ginevra, Andrea, Emma,
		Gabriele, Giorgia, Riccardo, Beatrice, Tommaso, Chiara, Marco, Francesca, Luca, Martina, Giuseppe, Sara,
		Antonio, Elena, Matteo, Valentina, Davide, Federica, Stefano, Paola, Giovanni, Silvia`)
	itLast = names(`Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo, Conti,
		De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti, Barbieri, Fontana, Santoro, Mariani, Rinaldi,
		Caruso, Ferrara, Galli, Martini, Leone, Longo, Gentile, Martinelli, Vitale, Lombardo, Serra, Coppola,
		De Santis, D'Angelo, Marchetti`)
	nlFirst = names(`Daan, Emma, Sem, Julia, Lucas, Mila, Levi, Tess, Finn, Sophie, Luuk, Zoë, Milan, Sara, Bram, Anna,
		Thijs, Eva, Jesse, Lotte, Ruben, Fleur, Niels, Sanne, Joost, Femke, Pieter, Anouk, Willem, Marieke, Sven, Iris`)
	nlLast = names(`de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer, de Boer,
		Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer, de Wit, Dijkstra, Smits, de Graaf,
		van der Meer, van der Linden, Kok, Jacobs, de Haan, Vermeulen`)
	ptFirst = names(`Miguel, Alice, Arthur, Sophia, Heitor, Helena, Bernardo, Valentina, Théo, Laura, Davi, Isabella,
		Gabriel, Manuela, Pedro, Júlia, Samuel, Heloísa, Lorenzo, Luiza, Lucas, Maria, Rafael, Ana, João, Beatriz,
		Gustavo, Fernanda, Felipe, Camila, Thiago, Larissa`)
	ptLast = names(`Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, Costa, Ribeiro,
		Martins, Carvalho, Almeida, Lopes, Soares, Fernandes, Vieira, Barbosa, Rocha, Dias, Nascimento, Andrade,
		Moreira, Nunes, Marques, Machado, Mendes, Freitas, Cardoso, Ramos, Gonçalves, Santana, Teixeira, Araújo`)
	jaFirst = names(`Haruto, Yui, Sota, Aoi, Yuto, Hina, Riku, Sakura, Hinata, Yuna, Sosuke, Mei, Kaito, Rin, Takumi,
		Akari, Hiroshi, Yuki, Kenji, Naoko, Takashi, Keiko, Daiki, Emi, Ren, Mio, Shota, Aya, Kazuki, Misaki`)
	jaLast = names(`Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Yamamoto, Nakamura, Kobayashi, Kato, Yoshida,
		Yamada, Sasaki, Yamaguchi, Matsumoto, Inoue, Kimura, Hayashi, Shimizu, Yamazaki, Mori, Abe, Ikeda, Hashimoto,
		Yamashita, Ishikawa, Nakajima, Maeda, Fujita, Ogawa`)
	svFirst = names(`Lars, Anna, Erik, Maria, Karl, Eva, Johan, Karin, Anders, Sara, Per, Emma, Nils, Kristina, Oskar,
		Elin, Gustav, Linnea, Axel, Maja, Björn, Ingrid, Mikael, Astrid, Fredrik, Sofia, Magnus, Ebba, Henrik, Frida`)
	svLast = names(`Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsson, Persson, Svensson, Gustafsson,
		Pettersson, Jonsson, Jansson, Hansson, Bengtsson, Jönsson, Lindberg, Jakobsson, Magnusson, Olofsson,
		Lindström, Lindqvist, Lindgren, Berg, Axelsson, Bergström, Lundberg, Lind, Lundgren, Lundqvist`)
	plFirst = names(`Jakub, Zuzanna, Antoni, Julia, Jan, Zofia, Szymon, Hanna, Franciszek, Maja, Filip, Lena, Aleksander,
		Alicja, Mikołaj, Maria, Wojciech, Oliwia, Kacper, Amelia, Piotr, Katarzyna, Tomasz, Agnieszka, Paweł,
		Małgorzata, Łukasz, Magdalena, Krzysztof, Joanna`)
	plLast = names(`Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, Szymański,
		Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Kwiatkowski, Krawczyk, Piotrowski, Grabowski, Nowakowski,
		Pawłowski, Michalski, Nowicki, Adamczyk, Dudek, Zając, Wieczorek, Jabłoński, Król, Majewski, Olszewski`)
	inFirst = names(`Aarav, Saanvi, Vivaan, Ananya, Aditya, Diya, Vihaan, Aadhya, Arjun, Pari, Sai, Anika, Reyansh,
		Navya, Ayaan, Myra, Krishna, Sara, Ishaan, Aanya, Rahul, Priya, Amit, Pooja, Rohan, Neha, Vikram, Sneha,
		Sanjay, Kavya`)
	inLast = names(`Sharma, Verma, Gupta, Singh, Kumar, Patel, Reddy, Iyer, Nair, Rao, Mehta, Shah, Joshi, Desai,
		Kapoor, Malhotra, Chopra, Bose, Banerjee, Mukherjee, Chatterjee, Das, Menon, Pillai, Agarwal, Bhatt, Jain,
		Saxena, Kulkarni, Pandey`)
)

func pfx(cc string, codes ...string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = "+" + cc + c
	}
	return out
}

// locales, weighted roughly like a European SaaS customer base with a strong
// North American share. Number plans are mobile ranges valid in libphonenumber.
var locales = []locale{
	{country: "US", weight: 24, langs: []string{"en", "es"}, langMain: 94,
		tzs:   []string{"America/New_York", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Los_Angeles"},
		first: enFirst, last: enLast, mail: []string{"gmail.com", "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com"},
		currency: "USD", phone: phonePlan{pfx("1", "212", "312", "415", "617", "202", "305", "206", "512", "303", "404", "646", "718", "213", "310", "713"), 7, '2'}},
	{country: "GB", weight: 10, langs: []string{"en"}, langMain: 100, tzs: []string{"Europe/London"},
		first: enFirst, last: enLast, mail: []string{"gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk", "hotmail.co.uk"},
		currency: "GBP", phone: phonePlan{pfx("44", "7400", "7401", "7402", "7403", "7404", "7411", "7412", "7415", "7500", "7501", "7507", "7508", "7510", "7511", "7515", "7517", "7701", "7702", "7703", "7704", "7706", "7707", "7708", "7709", "7711", "7712", "7715", "7717", "7720", "7722", "7725", "7730", "7734", "7737", "7740", "7745", "7748", "7751", "7753", "7760", "7763", "7766", "7769", "7770", "7773", "7775", "7779", "7800", "7801", "7803", "7805", "7807", "7809", "7810", "7812", "7815", "7818", "7841", "7843", "7900", "7901", "7903", "7904", "7906", "7908", "7920", "7921", "7940", "7944", "7950", "7956", "7960", "7968", "7970", "7974", "7980", "7983"), 6, '0'}},
	{country: "DE", weight: 12, langs: []string{"de", "en"}, langMain: 88, tzs: []string{"Europe/Berlin"},
		first: deFirst, last: deLast, mail: []string{"gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.de"},
		currency: "EUR", phone: phonePlan{pfx("49", "151", "152", "157", "160", "170", "171", "175", "176", "177", "178", "179"), 8, '1'}},
	{country: "AT", weight: 2, langs: []string{"de", "en"}, langMain: 90, tzs: []string{"Europe/Vienna"},
		first: deFirst, last: deLast, mail: []string{"gmail.com", "gmx.at", "aon.at"},
		currency: "EUR", phone: phonePlan{pfx("43", "664", "660", "676", "699"), 7, '1'}},
	{country: "CH", weight: 2, langs: []string{"de", "fr", "it", "en"}, langMain: 65, tzs: []string{"Europe/Zurich"},
		first: deFirst, last: deLast, mail: []string{"gmail.com", "bluewin.ch", "gmx.ch"},
		currency: "CHF", phone: phonePlan{pfx("41", "76", "77", "78", "79"), 7, '1'}},
	{country: "FR", weight: 8, langs: []string{"fr", "en"}, langMain: 92, tzs: []string{"Europe/Paris"},
		first: frFirst, last: frLast, mail: []string{"gmail.com", "orange.fr", "free.fr", "laposte.net", "outlook.fr"},
		currency: "EUR", phone: phonePlan{pfx("33", "60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"), 7, '0'}},
	{country: "ES", weight: 6, langs: []string{"es", "en"}, langMain: 93, tzs: []string{"Europe/Madrid"},
		first: esFirst, last: esLast, mail: []string{"gmail.com", "hotmail.es", "yahoo.es", "outlook.es"},
		currency: "EUR", phone: phonePlan{pfx("34", "6"), 8, '0'}},
	{country: "IT", weight: 5, langs: []string{"it", "en"}, langMain: 93, tzs: []string{"Europe/Rome"},
		first: itFirst, last: itLast, mail: []string{"gmail.com", "libero.it", "virgilio.it", "hotmail.it"},
		currency: "EUR", phone: phonePlan{pfx("39", "320", "328", "333", "338", "340", "347", "349", "366", "380", "393"), 7, '0'}},
	{country: "NL", weight: 4, langs: []string{"nl", "en"}, langMain: 85, tzs: []string{"Europe/Amsterdam"},
		first: nlFirst, last: nlLast, mail: []string{"gmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com"},
		currency: "EUR", phone: phonePlan{pfx("31", "61", "62", "63", "64", "65"), 7, '0'}},
	{country: "BE", weight: 2, langs: []string{"nl", "fr", "en"}, langMain: 55, tzs: []string{"Europe/Brussels"},
		first: nlFirst, last: nlLast, mail: []string{"gmail.com", "telenet.be", "skynet.be"},
		currency: "EUR", phone: phonePlan{pfx("32", "470", "475", "476", "477", "478", "479", "484", "485", "486", "487", "488", "490", "491", "492", "493", "494", "495", "496", "497", "498", "499"), 6, '0'}},
	{country: "SE", weight: 2, langs: []string{"sv", "en"}, langMain: 85, tzs: []string{"Europe/Stockholm"},
		first: svFirst, last: svLast, mail: []string{"gmail.com", "hotmail.se", "telia.com"},
		currency: "EUR", phone: phonePlan{pfx("46", "70", "72", "73", "76", "79"), 7, '0'}},
	{country: "PL", weight: 3, langs: []string{"pl", "en"}, langMain: 90, tzs: []string{"Europe/Warsaw"},
		first: plFirst, last: plLast, mail: []string{"gmail.com", "wp.pl", "onet.pl", "interia.pl", "o2.pl"},
		currency: "EUR", phone: phonePlan{pfx("48", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 7, '0'}},
	{country: "BR", weight: 5, langs: []string{"pt", "en"}, langMain: 95, tzs: []string{"America/Sao_Paulo"},
		first: ptFirst, last: ptLast, mail: []string{"gmail.com", "hotmail.com", "uol.com.br", "bol.com.br", "yahoo.com.br"},
		currency: "USD", phone: phonePlan{pfx("55", "119", "219", "319", "419", "519", "619", "719", "819"), 8, '6'}},
	{country: "PT", weight: 1, langs: []string{"pt", "en"}, langMain: 90, tzs: []string{"Europe/Lisbon"},
		first: ptFirst, last: ptLast, mail: []string{"gmail.com", "sapo.pt", "hotmail.com"},
		currency: "EUR", phone: phonePlan{pfx("351", "91", "92", "93", "96"), 7, '0'}},
	{country: "MX", weight: 3, langs: []string{"es", "en"}, langMain: 95, tzs: []string{"America/Mexico_City", "America/Mexico_City", "America/Monterrey", "America/Tijuana"},
		first: esFirst, last: esLast, mail: []string{"gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx"},
		currency: "USD", phone: phonePlan{pfx("52", "55", "33", "81"), 8, '1'}},
	{country: "CA", weight: 4, langs: []string{"en", "fr"}, langMain: 78, tzs: []string{"America/Toronto", "America/Toronto", "America/Vancouver", "America/Edmonton", "America/Halifax"},
		first: enFirst, last: enLast, mail: []string{"gmail.com", "outlook.com", "yahoo.ca", "rogers.com", "shaw.ca"},
		currency: "USD", phone: phonePlan{pfx("1", "416", "647", "604", "514", "403", "613", "587", "905"), 7, '2'}},
	{country: "AU", weight: 3, langs: []string{"en"}, langMain: 100, tzs: []string{"Australia/Sydney", "Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"},
		first: enFirst, last: enLast, mail: []string{"gmail.com", "bigpond.com", "outlook.com", "yahoo.com.au"},
		currency: "USD", phone: phonePlan{pfx("61", "40", "41", "42", "43"), 7, '0'}},
	{country: "IE", weight: 1, langs: []string{"en"}, langMain: 100, tzs: []string{"Europe/Dublin"},
		first: enFirst, last: enLast, mail: []string{"gmail.com", "eircom.net", "outlook.com"},
		currency: "EUR", phone: phonePlan{pfx("353", "83", "85", "86", "87", "89"), 7, '2'}},
	{country: "IN", weight: 4, langs: []string{"en", "hi"}, langMain: 80, tzs: []string{"Asia/Kolkata"},
		first: inFirst, last: inLast, mail: []string{"gmail.com", "gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com"},
		currency: "USD", phone: phonePlan{pfx("91", "98", "99", "97", "96", "95", "94", "93", "90", "88", "87", "70"), 8, '0'}},
	{country: "JP", weight: 2, langs: []string{"ja", "en"}, langMain: 90, tzs: []string{"Asia/Tokyo"},
		first: jaFirst, last: jaLast, mail: []string{"gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com"},
		currency: "USD", phone: phonePlan{pfx("81", "90", "80", "70"), 8, '1'}},
}

// Company names: a stem (a surname or a made-up word) plus a descriptor and
// often a legal suffix, unique case-insensitively.
var (
	companyStems = strings.Fields(`Acme Apex Aurora Beacon Blue Bright Cascade Cedar Cobalt Crest Delta Echo Ember
		Evergreen Falcon Fjord Flux Forge Granite Harbor Helix Horizon Indigo Iron Juniper Keystone Kite Lumen Lynx
		Maple Meridian Nimbus Northwind Nova Oak Onyx Orbit Orchid Pacific Peak Pine Pioneer Pixel Polar Prism Quartz
		Quest Radiant Raven Redwood Ridge River Sable Sage Sierra Silver Solstice Sparrow Spruce Stellar Summit Swift
		Tandem Terra Tidal Timber Titan Trident Union Vector Velvet Verdant Vertex Vista Willow Zenith Zephyr Alder
		Amber Atlas Birch Boreal Canyon Citrus Clover Comet Copper Coral Cypress Dune Elm Fern Garnet Glacier Harvest
		Heron Hazel Jade Lagoon Lotus Magnolia Marble Mesa Monarch Nectar Opal Osprey Pebble Pepper Plume Saffron
		Sequoia Shore Slate Sterling Stone Thistle Topaz Tulip Walnut Wren Yarrow`)
	companyWords = strings.Fields(`Labs Systems Software Analytics Logistics Health Foods Energy Media Studio Works
		Partners Consulting Capital Digital Dynamics Networks Solutions Robotics Retail Motors Pharma Bio Design
		Security Cloud Data Finance Insurance Travel Fashion Furniture Telecom Education Games Legal Marine Mining
		Textiles Brewing Coffee Outdoor Sports Audio Optics Print Packaging Fitness Realty Ventures Industries Group
		Holdings Trading Supply Engineering Aerospace Agritech Architecture Automation Biotech Cargo Chemicals
		Construction Electronics Events Farms Freight Hospitality Interiors Kitchens Lighting Machines Metals Pets
		Publishing Recruiting Renewables Shipping Tools Translations Water Wellness`)
	companySuffixes = []string{"", "", "", "", "Inc.", "LLC", "Ltd", "GmbH", "SAS", "S.L.", "B.V.", "AB", "AG", "Co.", "S.p.A.", "Pty Ltd", "Sp. z o.o."}
	companyTLDs     = []string{".com", ".com", ".com", ".com", ".io", ".co", ".net", ".de", ".fr", ".co.uk", ".es", ".it", ".nl", ".eu", ".app"}
)

var jobTitles = []string{"CEO", "CTO", "CFO", "COO", "Head of Sales", "Head of Marketing", "Head of Operations",
	"VP Engineering", "VP Sales", "Product Manager", "Marketing Manager", "Sales Manager", "Account Executive",
	"Software Engineer", "Data Analyst", "Office Manager", "Procurement Lead", "IT Director", "Founder",
	"Customer Success Manager", "Operations Manager", "Finance Manager", "HR Business Partner", "Consultant"}

// tagNames, most used first (the generator picks them Zipf-like).
var tagNames = []string{"Newsletter", "Trial", "SMB", "Enterprise", "Webinar", "Partner", "Upsell", "Churn risk", "VIP",
	"Event 2025", "Referral", "Beta tester", "Decision maker", "Influencer", "Cold lead", "Hot lead",
	"Renewal due", "Onboarding", "Champion", "Needs follow-up", "Do not call", "Conference lead"}

var segmentNames = []string{"Q3 campaign", "DACH prospects", "Enterprise accounts", "Trial users", "Newsletter subscribers",
	"Event attendees", "Win-back", "Product beta"}

var (
	// e-mails as subject and body
	inboundMails = [][2]string{
		{"Question about pricing", "Hi, could you send me more details about the plans? Thanks."},
		{"Re: Your proposal", "Thanks for getting back to me. We discussed it internally and would like to move forward."},
		{"Meeting next week?", "Would Tuesday or Wednesday afternoon work for a short call?"},
		{"Invoice question", "I have a question about the last invoice, the amount looks different from the quote."},
		{"Case studies?", "We are evaluating a few tools this quarter. Can you share a case study?"},
		{"Thanks for the call", "Great talking to you today. Looking forward to the next steps."},
		{"Problem with my account", "I cannot sign in since yesterday. Can you help?"},
		{"Can we schedule a demo?", "Our team would like to see the product. Which dates work for you?"},
		{"Re: Contract renewal", "We would like to renew, but for 20 seats instead of 15."},
	}
	outboundMails = [][2]string{
		{"Welcome to Acme", "Thanks for signing up! Here is how to get started in five minutes."},
		{"Following up", "Hi, just following up on our last conversation. Let me know if you have any questions."},
		{"Proposal attached", "Thanks for your interest. I have attached the proposal we talked about."},
		{"Your trial ends soon", "Your trial ends in 7 days. Reply to this e-mail if you would like an extension."},
		{"Thanks for your time", "It was great to meet you. Here is a summary of what we discussed."},
		{"Invitation: product webinar", "We are hosting a webinar next month and would love to see you there."},
		{"Your quarterly review", "Here is your usage report for the last quarter, with a few suggestions."},
		{"Quick question", "Are you still the right person to talk to about your team's CRM?"},
	}
	smsBodies = []string{"Hi, are you free for a quick call today?", "Thanks, talk soon!", "Running 5 minutes late.",
		"Sent you the details by e-mail.", "Can you call me back?"}
	noteBodies = []string{"Met at the trade fair; interested in the analytics add-on.",
		"Prefers e-mail over phone. Decision expected next quarter.",
		"Budget approved for next year; follow up in January.",
		"Called, no answer. Left a voicemail.",
		"Asked for a discount for a 2-year contract.",
		"Very happy with support; potential reference customer.",
		"Uses a competitor today; contract ends in the summer.",
		"Wants a demo for the whole team."}
	taskTitles = []string{"Call back", "Send proposal", "Schedule demo", "Follow up on invoice", "Prepare renewal offer",
		"Check in after onboarding", "Send case study", "Book meeting with decision maker"}
	dealTitles = []string{"Annual subscription", "Team plan upgrade", "Enterprise licence", "Analytics add-on",
		"Support package", "Renewal", "Pilot project", "Onboarding services"}
	unsuppressNotes = []string{"Customer asked to receive e-mails again.", "Bounce was temporary; mailbox works again.",
		"Suppressed by mistake."}
	manualNotes = []string{"", "Asked by phone not to be contacted.", "Requested via support ticket.", "Legal request."}
)

// fieldDef is a custom field the seed defines.
type fieldDef struct {
	key, label, typ string
	options         []string
}

var fieldDefs = []fieldDef{
	{"job_title", "Job title", "text", nil},
	{"employees", "Employees", "number", nil},
	{"renewal_date", "Renewal date", "date", nil},
	{"vip", "VIP", "boolean", nil},
	{"industry", "Industry", "select", []string{"Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education", "Logistics", "Media"}},
	{"interests", "Interests", "multiselect", []string{"webinars", "case studies", "pricing", "integrations", "security", "training"}},
	{"homepage", "Homepage", "url", nil},
}

var productDefs = []struct{ key, name string }{
	{"crm", "Acme CRM"},
	{"analytics", "Acme Analytics"},
	{"support", "Acme Support Desk"},
}

// demoUsers: the first is the admin the demo signs in with.
var demoUsers = []struct {
	email, name, role string
	active            bool
}{
	{DemoAdminEmail, "Ada Lindqvist", "admin", true},
	{"omar.haddad@example.com", "Omar Haddad", "admin", true},
	{"maria.rossi@example.com", "Maria Rossi", "member", true},
	{"jonas.becker@example.com", "Jonas Becker", "member", true},
	{"priya.sharma@example.com", "Priya Sharma", "member", true},
	{"lucas.martin@example.com", "Lucas Martin", "member", true},
	{"emily.carter@example.com", "Emily Carter", "member", true},
	{"kenji.tanaka@example.com", "Kenji Tanaka", "member", true},
	{"sofia.garcia@example.com", "Sofía García", "member", true},
	{"tom.baker@example.com", "Tom Baker", "member", false},
}
