from crowdstream.cli import main

raise SystemExit(main())
