#!/usr/bin/env node
import '../dist/vioctl.mjs';
